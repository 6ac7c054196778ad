//! The arguments of `#[actor(...)]` and of the item attributes `#[action(...)]`,
//! `#[event(...)]`, `#[queue(...)]`.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Path, Token};

/// `name = "chatRoom", crate = rivet_leptos::core`
#[derive(Default)]
pub struct ActorArgs {
    pub name: Option<LitStr>,
    pub krate: Option<Path>,
}

impl Parse for ActorArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = ActorArgs::default();
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                set_once(&mut args.krate, input.parse()?, "crate")?;
            } else {
                let key: Ident = input.parse()?;
                if key != "name" {
                    return Err(syn::Error::new(
                        key.span(),
                        "unknown argument: expected `name = \"wireName\"` or `crate = path`",
                    ));
                }
                input.parse::<Token![=]>()?;
                set_once(&mut args.name, input.parse()?, "name")?;
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

/// `name = "wireName"` (the only argument of the item attributes), possibly empty.
#[derive(Default)]
pub struct ItemArgs {
    pub name: Option<LitStr>,
}

impl Parse for ItemArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = ItemArgs::default();
        let pairs = Punctuated::<NameValue, Token![,]>::parse_terminated(input)?;
        for pair in pairs {
            set_once(&mut args.name, pair.value, "name")?;
        }
        Ok(args)
    }
}

struct NameValue {
    value: LitStr,
}

impl Parse for NameValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key != "name" {
            return Err(syn::Error::new(
                key.span(),
                "unknown argument: expected `name = \"wireName\"`",
            ));
        }
        input.parse::<Token![=]>()?;
        Ok(NameValue {
            value: input.parse()?,
        })
    }
}

fn set_once<T: quote::ToTokens>(slot: &mut Option<T>, value: T, what: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new_spanned(
            value,
            format!("`{what}` is given twice"),
        ));
    }
    *slot = Some(value);
    Ok(())
}
