//! Configuration from the environment and its precedence (README "Configuration from the
//! environment").
//!
//! One test in its own binary: it changes the process environment, which no other thread
//! may read meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivet_core::{ClientConfig, Error};

const VARS: [&str; 6] = [
    "RIVET_ENGINE",
    "RIVET_ENDPOINT",
    "RIVET_TOKEN",
    "RIVET_NAMESPACE",
    "RIVET_POOL",
    "RIVET_RUNNER",
];

/// Runs `check` with exactly `vars` set among the `RIVET_*` variables.
fn with_env(vars: &[(&str, &str)], check: impl FnOnce()) {
    for name in VARS {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    check();
    for name in VARS {
        std::env::remove_var(name);
    }
}

fn reason(err: &Error) -> String {
    match err {
        Error::InvalidInput { reason, .. } => reason.clone(),
        other => panic!("not an InvalidInput: {other}"),
    }
}

#[test]
fn environment_fills_unset_settings_with_documented_precedence() {
    // Nothing set: the JS client's defaults.
    with_env(&[], || {
        let c = ClientConfig::from_env().unwrap();
        assert_eq!(c.endpoint(), "http://localhost:6420");
        assert_eq!(c.namespace(), "default");
        assert_eq!(c.pool(), "default");
        assert!(c.token().is_none());
    });

    // Every variable is read.
    with_env(
        &[
            ("RIVET_ENDPOINT", "https://api.example.com/base/"),
            ("RIVET_TOKEN", "env-token"),
            ("RIVET_NAMESPACE", "env-ns"),
            ("RIVET_POOL", "env-pool"),
        ],
        || {
            let c = ClientConfig::from_env().unwrap();
            assert_eq!(c.endpoint(), "https://api.example.com/base");
            assert_eq!(c.namespace(), "env-ns");
            assert_eq!(c.pool(), "env-pool");
            assert_eq!(c.token().unwrap().expose(), "env-token");
        },
    );

    // RIVET_ENGINE before RIVET_ENDPOINT; an empty variable counts as unset.
    with_env(
        &[
            ("RIVET_ENGINE", "http://engine:1"),
            ("RIVET_ENDPOINT", "http://endpoint:2"),
        ],
        || {
            assert_eq!(
                ClientConfig::from_env().unwrap().endpoint(),
                "http://engine:1"
            )
        },
    );
    with_env(
        &[
            ("RIVET_ENGINE", ""),
            ("RIVET_ENDPOINT", "http://endpoint:2"),
        ],
        || {
            assert_eq!(
                ClientConfig::from_env().unwrap().endpoint(),
                "http://endpoint:2"
            )
        },
    );

    // RIVET_RUNNER, the older name of RIVET_POOL, is read when RIVET_POOL is unset or empty;
    // RIVET_POOL wins over it, and a pool given in code over both.
    with_env(&[("RIVET_RUNNER", "old-runner")], || {
        assert_eq!(ClientConfig::from_env().unwrap().pool(), "old-runner")
    });
    with_env(
        &[("RIVET_POOL", ""), ("RIVET_RUNNER", "old-runner")],
        || assert_eq!(ClientConfig::from_env().unwrap().pool(), "old-runner"),
    );
    with_env(
        &[("RIVET_POOL", "new-pool"), ("RIVET_RUNNER", "old-runner")],
        || assert_eq!(ClientConfig::from_env().unwrap().pool(), "new-pool"),
    );
    with_env(&[("RIVET_RUNNER", "old-runner")], || {
        let c = ClientConfig::builder().pool("code-pool").env().build();
        assert_eq!(c.unwrap().pool(), "code-pool");
    });

    // A setting given in code wins over its variable, whichever order the calls come in.
    with_env(
        &[
            ("RIVET_ENDPOINT", "http://endpoint:2"),
            ("RIVET_NAMESPACE", "env-ns"),
            ("RIVET_POOL", "env-pool"),
        ],
        || {
            let c = ClientConfig::builder()
                .endpoint("http://code:3")
                .env()
                .namespace("code-ns")
                .build();
            // `namespace` after `env()` replaces what the environment filled in.
            let c = c.unwrap();
            assert_eq!(c.endpoint(), "http://code:3");
            assert_eq!(c.namespace(), "code-ns");
            assert_eq!(c.pool(), "env-pool");
        },
    );

    // Namespace and token in the endpoint's user info.
    with_env(&[("RIVET_ENDPOINT", "https://url-ns:url-token@h")], || {
        let c = ClientConfig::from_env().unwrap();
        assert_eq!(c.namespace(), "url-ns");
        assert_eq!(c.token().unwrap().expose(), "url-token");
        assert_eq!(c.endpoint(), "https://h");
    });

    // A token both in the endpoint URL and in RIVET_TOKEN is an error (as in the JS client)
    // that names the variable and quotes neither token.
    with_env(
        &[
            ("RIVET_ENDPOINT", "https://ns:SECRET-URL@h"),
            ("RIVET_TOKEN", "SECRET-ENV"),
        ],
        || {
            let err = ClientConfig::from_env().unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, Error::InvalidInput { field: "token", .. }),
                "{text}"
            );
            assert!(reason(&err).contains("RIVET_TOKEN"), "{text}");
            assert!(!text.contains("SECRET"), "{text}");
        },
    );
    with_env(
        &[
            ("RIVET_ENDPOINT", "https://url-ns@h"),
            ("RIVET_NAMESPACE", "env-ns"),
        ],
        || {
            let err = ClientConfig::from_env().unwrap_err();
            assert!(reason(&err).contains("RIVET_NAMESPACE"), "{err}");
        },
    );

    // A bad endpoint from the environment says which variable it came from.
    with_env(&[("RIVET_ENDPOINT", "ns:SECRET-BAD@h:99999")], || {
        let err = ClientConfig::from_env().unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "endpoint",
                    ..
                }
            ),
            "{text}"
        );
        assert!(reason(&err).contains("RIVET_ENDPOINT"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    });
    with_env(&[("RIVET_ENGINE", "ftp://h")], || {
        let err = ClientConfig::from_env().unwrap_err();
        assert!(reason(&err).contains("RIVET_ENGINE"), "{err}");
    });
}
