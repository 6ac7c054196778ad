//! [`Client`]: the entry point. Turns actor names and keys into [`ActorHandle`]s.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::addressing::{validate_name, Target};
use crate::config::ClientConfig;
use crate::handle::ActorHandle;
use crate::key::ActorKey;
use crate::manager::{ConnectionManager, ManagerShared};
use crate::observable::Observable;
use crate::rest::{self, CreateSpec};
use crate::shared::ClientInner;
use crate::transport::HttpClient;
use crate::typed::ActorKind;
use crate::{Error, Result};

/// A client for one RivetKit engine. Cheap to clone; clones share connections and settings.
///
/// ```no_run
/// # async fn demo() -> rivet_core::Result<()> {
/// use rivet_core::Client;
///
/// let client = Client::new("http://127.0.0.1:6420")?;
/// let counter = client.get_or_create("counter", ["my-counter"]);
/// let count: i64 = counter.action("increment", (1,)).await?;
/// println!("count is now {count}");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<ClientInner>,
    manager: Arc<ManagerShared>,
}

impl Client {
    /// A client for `endpoint` with default settings; see [`ClientConfig::new`].
    pub fn new(endpoint: impl AsRef<str>) -> Result<Self> {
        Self::from_config(ClientConfig::new(endpoint)?)
    }

    /// A client configured from the environment; see [`ClientConfig::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::from_config(ClientConfig::from_env()?)
    }

    /// A client with an explicit configuration.
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::builder()
    ///     .endpoint("http://127.0.0.1:6420")
    ///     .encoding(rivet_core::Encoding::Cbor)
    ///     .build()?;
    /// let client = rivet_core::Client::from_config(config)?;
    /// assert_eq!(client.config().encoding(), rivet_core::Encoding::Cbor);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn from_config(config: ClientConfig) -> Result<Self> {
        let http = HttpClient::new(&config);
        Ok(Self {
            inner: Arc::new(ClientInner::new(config, http)),
            manager: Arc::default(),
        })
    }

    /// The configuration requests use: the one given, until the metadata lookup (see
    /// [`ClientConfigBuilder::metadata_lookup`](crate::ClientConfigBuilder::metadata_lookup))
    /// switched to the endpoint, namespace and token the server named; then that one.
    ///
    /// ```
    /// let client = rivet_core::Client::new("http://127.0.0.1:6420/")?;
    /// assert_eq!(client.config().endpoint(), "http://127.0.0.1:6420");
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn config(&self) -> &ClientConfig {
        self.inner.config()
    }

    /// A handle to the existing actor `name` with `key`. Calls fail with
    /// [`Error::NotFound`] if there is none (after the lifecycle retries).
    ///
    /// ```
    /// # let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// let room = client.get("chatRoom", ["org", "general"]);
    /// assert_eq!(room.name(), "chatRoom");
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn get<K: ActorKind>(&self, actor: K, key: impl Into<ActorKey>) -> K::Handle {
        K::wrap(self.handle(actor.actor_name(), Target::Get { key: key.into() }))
    }

    /// A handle to actor `name` with `key`, created on first use if it does not exist.
    pub fn get_or_create<K: ActorKind>(&self, actor: K, key: impl Into<ActorKey>) -> K::Handle {
        self.get_or_create_with(actor, key, CreateOptions::default())
    }

    /// Like [`get_or_create`](Self::get_or_create), with an input and region used if the
    /// actor is created. The input of an existing actor is not changed.
    ///
    /// ```
    /// # let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// use rivet_core::CreateOptions;
    /// let options = CreateOptions::new().input(&serde_json::json!({"owner": "ada"}))?;
    /// let doc = client.get_or_create_with("document", "readme", options);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn get_or_create_with<K: ActorKind>(
        &self,
        actor: K,
        key: impl Into<ActorKey>,
        options: CreateOptions,
    ) -> K::Handle {
        K::wrap(self.handle(
            actor.actor_name(),
            Target::GetOrCreate {
                key: key.into(),
                spec: options.spec,
            },
        ))
    }

    /// Creates a new actor `name` with `key` and returns a handle addressing it by id.
    /// Fails with the server's `actor.duplicate_key` error ([`Error::Actor`]) if one exists.
    pub async fn create<K: ActorKind>(
        &self,
        actor: K,
        key: impl Into<ActorKey>,
    ) -> Result<K::Handle> {
        self.create_with(actor, key, CreateOptions::default()).await
    }

    /// Like [`create`](Self::create), with an input and region.
    pub async fn create_with<K: ActorKind>(
        &self,
        actor: K,
        key: impl Into<ActorKey>,
        options: CreateOptions,
    ) -> Result<K::Handle> {
        let name = actor.actor_name();
        validate_name(&name)?;
        let key = key.into();
        let actor_id = rest::create(&self.inner, &name, &key, &options.spec).await?;
        Ok(K::wrap(self.handle(name, Target::Id { actor_id })))
    }

    /// A handle to the actor with id `actor_id`.
    pub fn get_for_id<K: ActorKind>(&self, actor: K, actor_id: impl Into<String>) -> K::Handle {
        K::wrap(self.handle(
            actor.actor_name(),
            Target::Id {
                actor_id: actor_id.into(),
            },
        ))
    }

    /// Closes every connection opened through this client (and its clones) and waits until
    /// their tasks have ended. Handles stay usable for stateless calls; new connections can
    /// be opened afterwards.
    ///
    /// ```no_run
    /// # async fn demo(client: rivet_core::Client) {
    /// client.dispose().await;
    /// assert_eq!(client.live_connections(), 0);
    /// # }
    /// ```
    pub async fn dispose(&self) {
        self.manager.clear();
        self.inner.connections().shutdown_all().await;
    }

    /// How many connection tasks of this client are running right now.
    pub fn live_connections(&self) -> usize {
        self.inner.connections().live().get()
    }

    /// The number of running connection tasks, as an observable value.
    pub fn live_connections_observable(&self) -> Observable<usize> {
        self.inner.connections().live()
    }

    fn handle(&self, name: impl Into<String>, target: Target) -> ActorHandle {
        ActorHandle::new(self.inner.clone(), name.into(), target)
    }
}

impl Client {
    /// The client's shared connection manager; see [`ConnectionManager`].
    pub fn manager(&self) -> ConnectionManager {
        ConnectionManager::new(self.inner.clone(), self.manager.clone())
    }
}

/// Input and region for actors created by [`Client::get_or_create_with`] or
/// [`Client::create_with`].
///
/// ```
/// let options = rivet_core::CreateOptions::new()
///     .input(&("hello", 42))?
///     .region("default");
/// # Ok::<(), rivet_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateOptions {
    spec: CreateSpec,
}

impl CreateOptions {
    /// No input, default region.
    pub fn new() -> Self {
        Self::default()
    }

    /// The input passed to the actor's `createState(c, input)`.
    pub fn input<T: Serialize + ?Sized>(mut self, input: &T) -> Result<Self> {
        let value = serde_json::to_value(input).map_err(|e| Error::encode("create input", e))?;
        self.spec.input = Some(value);
        Ok(self)
    }

    /// The input as an already built JSON value.
    pub fn input_value(mut self, input: Value) -> Self {
        self.spec.input = Some(input);
        self
    }

    /// The region (datacenter) to create the actor in.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.spec.region = Some(region.into());
        self
    }
}
