//! The declaration read from the annotated trait: the actor's name and types, its actions,
//! events and queues, checked for what would not work at run time.

use std::collections::HashSet;

use syn::ext::IdentExt;
use syn::{
    Attribute, FnArg, Ident, ItemTrait, Pat, Path, ReturnType, TraitItem, TraitItemFn, Type,
    Visibility,
};

use crate::attr::{ActorArgs, ItemArgs};
use crate::names::{lower_camel, screaming_snake, RESERVED_METHODS};

pub struct Declaration {
    pub vis: Visibility,
    pub ident: Ident,
    pub docs: Vec<Attribute>,
    pub wire_name: String,
    pub krate: Path,
    pub params: Type,
    pub input: Option<Type>,
    pub actions: Vec<Member>,
    pub events: Vec<Member>,
    pub queues: Vec<Member>,
}

/// One action, event or queue.
pub struct Member {
    pub ident: Ident,
    pub constant: Ident,
    pub wire_name: String,
    pub docs: Vec<Attribute>,
    pub args: Vec<(Ident, Type)>,
    /// The result (actions), the completion value (queues); `None` when not written.
    pub output: Option<Type>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Action,
    Event,
    Queue,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::Event => "event",
            Kind::Queue => "queue",
        }
    }
}

pub fn parse(args: ActorArgs, item: ItemTrait) -> syn::Result<Declaration> {
    if let Some(generics) = item.generics.lt_token {
        return Err(syn::Error::new(
            generics.span,
            "an actor declaration has no generic parameters",
        ));
    }
    if let Some(colon) = item.colon_token {
        return Err(syn::Error::new(
            colon.span,
            "an actor declaration has no supertraits",
        ));
    }
    let ident = item.ident.unraw();
    let wire_name = args
        .name
        .map_or_else(|| lower_camel(&ident.to_string()), |name| name.value());
    let krate = args
        .krate
        .unwrap_or_else(|| syn::parse_quote!(::rivet_core));
    let mut declaration = Declaration {
        vis: item.vis,
        ident: item.ident,
        docs: docs_of(&item.attrs),
        wire_name,
        krate,
        params: syn::parse_quote!(()),
        input: None,
        actions: Vec::new(),
        events: Vec::new(),
        queues: Vec::new(),
    };
    let mut params_seen = false;
    for trait_item in item.items {
        match trait_item {
            TraitItem::Type(ty) => {
                let Some((_, default)) = ty.default else {
                    return Err(syn::Error::new_spanned(
                        &ty.ident,
                        "write the type: `type Params = MyParams;` or `type Input = MyInput;`",
                    ));
                };
                if ty.ident == "Params" && !params_seen {
                    declaration.params = default;
                    params_seen = true;
                } else if ty.ident == "Input" && declaration.input.is_none() {
                    declaration.input = Some(default);
                } else {
                    return Err(syn::Error::new_spanned(
                        &ty.ident,
                        "expected `type Params = …;` or `type Input = …;`, once each",
                    ));
                }
            }
            TraitItem::Fn(function) => {
                let (kind, member) = member(function)?;
                match kind {
                    Kind::Action => declaration.actions.push(member),
                    Kind::Event => declaration.events.push(member),
                    Kind::Queue => declaration.queues.push(member),
                }
            }
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "an actor declaration holds `fn` items (actions, `#[event]`s, `#[queue]`s) \
                     and `type Params` / `type Input`",
                ))
            }
        }
    }
    check_unique(&declaration)?;
    Ok(declaration)
}

fn docs_of(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect()
}

fn member(function: TraitItemFn) -> syn::Result<(Kind, Member)> {
    let mut kind = Kind::Action;
    let mut wire_override = None;
    let mut kind_attrs = 0;
    for attr in &function.attrs {
        let this_kind = if attr.path().is_ident("action") {
            Kind::Action
        } else if attr.path().is_ident("event") {
            Kind::Event
        } else if attr.path().is_ident("queue") {
            Kind::Queue
        } else if attr.path().is_ident("doc") {
            continue;
        } else {
            return Err(syn::Error::new_spanned(
                attr,
                "unknown attribute: expected `#[action]`, `#[event]` or `#[queue]` \
                 (each with an optional `name = \"wireName\"`), or doc comments",
            ));
        };
        kind_attrs += 1;
        if kind_attrs > 1 {
            return Err(syn::Error::new_spanned(
                attr,
                "an item is one of action, event or queue",
            ));
        }
        kind = this_kind;
        let args: ItemArgs = match &attr.meta {
            syn::Meta::Path(_) => ItemArgs::default(),
            _ => attr.parse_args()?,
        };
        wire_override = args.name;
    }
    let sig = &function.sig;
    if let Some(body) = &function.default {
        return Err(syn::Error::new_spanned(
            body,
            "declare the signature only: the actor's code runs on the server",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!("a {} has no generic parameters", kind.label()),
        ));
    }
    let ident = sig.ident.unraw();
    let name = ident.to_string();
    if kind == Kind::Action && RESERVED_METHODS.contains(&name.as_str()) {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "action `{name}` would clash with the method `{name}` of typed handles and \
                 connections; give it another Rust name and keep the wire name: \
                 `#[action(name = \"{}\")] fn {name}_action(…)`",
                lower_camel(&name)
            ),
        ));
    }
    let mut args = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new_spanned(
                    receiver,
                    "no `self`: list the arguments the actor receives",
                ))
            }
            FnArg::Typed(typed) => {
                let Pat::Ident(pat) = &*typed.pat else {
                    return Err(syn::Error::new_spanned(
                        &typed.pat,
                        "name each argument with a plain identifier",
                    ));
                };
                if let Type::Reference(reference) = &*typed.ty {
                    return Err(syn::Error::new_spanned(
                        reference,
                        "use an owned type (`String`, not `&str`): arguments and payloads \
                         are moved into the request or decoded from the wire",
                    ));
                }
                args.push((pat.ident.clone(), (*typed.ty).clone()));
            }
        }
    }
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    match kind {
        Kind::Event if output.is_some() => {
            return Err(syn::Error::new_spanned(
                &sig.output,
                "an event has no result: its arguments are the payload",
            ))
        }
        Kind::Queue if args.len() != 1 => {
            return Err(syn::Error::new_spanned(
                &sig.inputs,
                "a queue takes exactly one argument, the message: `fn jobs(job: Job) -> Done;`",
            ))
        }
        _ => {}
    }
    let wire_name = wire_override.map_or_else(|| lower_camel(&name), |n| n.value());
    if wire_name.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "the wire name must not be empty",
        ));
    }
    Ok((
        kind,
        Member {
            constant: Ident::new(&screaming_snake(&name), sig.ident.span()),
            ident: sig.ident.clone(),
            wire_name,
            docs: docs_of(&function.attrs),
            args,
            output,
        },
    ))
}

/// Two members with the same Rust name would generate the same constant. (Two members with the
/// same wire name are allowed: `#[action(name = "echo")]` on two signatures of a variadic
/// action.)
fn check_unique(declaration: &Declaration) -> syn::Result<()> {
    let mut constants: HashSet<String> = HashSet::new();
    let all = [
        &declaration.actions,
        &declaration.events,
        &declaration.queues,
    ];
    for member in all.into_iter().flatten() {
        if !constants.insert(member.constant.to_string()) {
            return Err(syn::Error::new(
                member.ident.span(),
                format!(
                    "`{}` is declared twice (actions, events and queues share one namespace of \
                     Rust names)",
                    member.ident
                ),
            ));
        }
    }
    Ok(())
}
