//! The code a declaration generates: the actor's unit struct with its `Actor` impl and one
//! constant per member, and the `…Actions` trait implemented for every caller of the actor.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Type;

use crate::declaration::{Declaration, Member};

pub fn expand(d: &Declaration) -> TokenStream {
    let Declaration {
        vis,
        ident,
        docs,
        wire_name,
        krate,
        params,
        input,
        ..
    } = d;
    let input_type = input.clone().unwrap_or_else(|| syn::parse_quote!(()));
    let actions_trait = format_ident!("{}Actions", ident);
    let action_consts = d.actions.iter().map(|m| action_const(d, m));
    let event_consts = d.events.iter().map(|m| event_const(d, m));
    let queue_consts = d.queues.iter().map(|m| queue_const(d, m));
    let methods = d.actions.iter().map(|m| action_method(d, m));
    let input_fn = input.as_ref().map(|input| {
        quote! {
            /// Create options carrying `input`, for `get_or_create_with` and `create_with`.
            #vis fn input(input: &#input) -> #krate::Result<#krate::CreateOptions> {
                #krate::CreateOptions::new().input(input)
            }
        }
    });
    let struct_doc = format!(
        " The actor registered as `{wire_name}`. Address it with \
         `client.get_or_create({ident}, key)`; its actions are the methods of \
         [`{actions_trait}`]."
    );
    let trait_doc = format!(
        " The actions of [`{ident}`], available on every typed handle, connection and hook \
         addressing it."
    );
    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #struct_doc]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        #vis struct #ident;

        impl #krate::typed::Actor for #ident {
            const NAME: &'static str = #wire_name;
            type Params = #params;
            type Input = #input_type;
        }

        impl #ident {
            #(#action_consts)*
            #(#event_consts)*
            #(#queue_consts)*
            #input_fn
        }

        #[doc = #trait_doc]
        #vis trait #actions_trait: #krate::typed::Caller<Actor = #ident> {
            #(#methods)*
        }

        impl<C: #krate::typed::Caller<Actor = #ident> + ?Sized> #actions_trait for C {}
    }
}

fn arg_types(m: &Member) -> Vec<&Type> {
    m.args.iter().map(|(_, ty)| ty).collect()
}

fn output_or_unit(m: &Member) -> Type {
    m.output.clone().unwrap_or_else(|| syn::parse_quote!(()))
}

fn signature(m: &Member) -> String {
    let args: Vec<String> = m
        .args
        .iter()
        .map(|(name, ty)| format!("{name}: {}", quote!(#ty)))
        .collect();
    format!("{}({})", m.wire_name, args.join(", "))
}

fn action_const(d: &Declaration, m: &Member) -> TokenStream {
    let (vis, ident, krate, constant, wire, docs) = (
        &d.vis,
        &d.ident,
        &d.krate,
        &m.constant,
        &m.wire_name,
        &m.docs,
    );
    let args = arg_types(m);
    let output = output_or_unit(m);
    let doc = format!(" Action `{}`.", signature(m));
    quote! {
        #[doc = #doc]
        #[doc = ""]
        #(#docs)*
        #vis const #constant: #krate::typed::ActionDef<#ident, (#(#args,)*), #output> =
            #krate::typed::ActionDef::new(#wire);
    }
}

fn event_const(d: &Declaration, m: &Member) -> TokenStream {
    let (vis, ident, krate, constant, wire, docs) = (
        &d.vis,
        &d.ident,
        &d.krate,
        &m.constant,
        &m.wire_name,
        &m.docs,
    );
    let args = arg_types(m);
    let (payload, constructor) = match args.as_slice() {
        [] => (quote!(()), quote!(none)),
        [one] => (quote!(#one), quote!(one)),
        many => (quote!((#(#many,)*)), quote!(many)),
    };
    let doc = format!(" Event `{}`.", signature(m));
    quote! {
        #[doc = #doc]
        #[doc = ""]
        #(#docs)*
        #vis const #constant: #krate::typed::EventDef<#ident, #payload> =
            #krate::typed::EventDef::#constructor(#wire);
    }
}

fn queue_const(d: &Declaration, m: &Member) -> TokenStream {
    let (vis, ident, krate, constant, wire, docs) = (
        &d.vis,
        &d.ident,
        &d.krate,
        &m.constant,
        &m.wire_name,
        &m.docs,
    );
    let message = arg_types(m);
    let done = m.output.as_ref().map(|done| quote!(, #done));
    let doc = format!(" Queue `{}`.", signature(m));
    quote! {
        #[doc = #doc]
        #[doc = ""]
        #(#docs)*
        #vis const #constant: #krate::typed::QueueDef<#ident, #(#message)* #done> =
            #krate::typed::QueueDef::new(#wire);
    }
}

fn action_method(d: &Declaration, m: &Member) -> TokenStream {
    let (ident, krate, constant, docs, method) =
        (&d.ident, &d.krate, &m.constant, &m.docs, &m.ident);
    let names: Vec<_> = m.args.iter().map(|(name, _)| name).collect();
    let types = arg_types(m);
    let output = output_or_unit(m);
    let doc = format!(" Calls action `{}`.", signature(m));
    quote! {
        #[doc = #doc]
        #[doc = ""]
        #(#docs)*
        #[allow(clippy::too_many_arguments)]
        fn #method(
            &self,
            #(#names: #types,)*
        ) -> impl ::core::future::Future<Output = #krate::Result<#output>> + #krate::typed::MaybeSend {
            #krate::typed::Caller::call(self, #ident::#constant, (#(#names,)*))
        }
    }
}
