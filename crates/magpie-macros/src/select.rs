//! `select!`: wait for the first of several futures whose output matches its pattern.
//!
//! # Input
//!
//! ```text
//! select! {
//!     biased;                                   // optional: poll in the order written
//!     pattern = future, if condition => body,   // `, if condition` optional
//!     pattern = future => { block }             // no comma needed after a block
//!     else => body,                             // optional: every branch disabled
//! }
//! ```
//!
//! # Expansion
//!
//! ```text
//! {
//!     enum Out<T0, T1> { B0(T0), B1(T1), Disabled }
//!     let out = {
//!         let mut disabled = [!condition0, false];    // conditions first, in order
//!         let mut f0 = pin!(into_future(future0));    // then every future, in order
//!         let mut f1 = pin!(into_future(future1));
//!         poll_fn(|cx| {
//!             let start = if biased { 0 } else { random start };
//!             let mut pending = false;
//!             for i in 0..2 {
//!                 let b = (start + i) % 2;
//!                 if disabled[b] { continue }
//!                 match b {
//!                     0 => {
//!                         let v = match f0.as_mut().poll(cx) { Ready(v) => v, Pending => { pending = true; continue } };
//!                         disabled[0] = true;                   // completed: never polled again
//!                         match &v { shape0 => {} _ => continue } // pattern does not match: disabled
//!                         return Ready(Out::B0(v));
//!                     }
//!                     ...
//!                 }
//!             }
//!             if pending { Pending } else { Ready(Out::Disabled) }
//!         }).await
//!     };                                              // every future dropped here
//!     match out { Out::B0(pattern0) => body0, Out::B1(pattern1) => body1, Out::Disabled => else_body }
//! }
//! ```
//!
//! The bodies run outside the `poll_fn` closure and after the futures are dropped, so `?`,
//! `return`, `break` and `continue` in them act on the surrounding code, and a body may reuse
//! what a branch borrowed (`&mut sleep`). Whether a value matches is decided inside the poll
//! by matching a reference to it against the pattern's *shape*: the pattern with `ref` and
//! `mut` removed from its bindings, so that matching through a reference never moves.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::parse::{Parse, ParseStream, Parser};
use syn::{token, Block, Expr, ExprBlock, Pat, Token};

const NAME: &str = "magpie::select!";
const BRANCH_FORM: &str = "`pattern = future => expression`";

/// A parsed `select!`.
struct Select {
    biased: bool,
    branches: Vec<Branch>,
    else_body: Option<Expr>,
}

/// `pattern = future, if condition => body`.
struct Branch {
    pattern: Pat,
    future: Expr,
    condition: Option<Expr>,
    body: Expr,
}

fn error(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, format!("{NAME}: {message}"))
}

/// Parses a branch's body, and the comma after it (optional after a block-like body).
fn parse_body(input: ParseStream<'_>) -> syn::Result<Expr> {
    let body = if input.peek(token::Brace) {
        // A block ends the body: `{ .. } (a, b) = f => ..` is not a call.
        let block: Block = input.parse()?;
        Expr::Block(ExprBlock {
            attrs: Vec::new(),
            label: None,
            block,
        })
    } else {
        input
            .parse::<Expr>()
            .map_err(|e| error(e.span(), format!("expected an expression after `=>`: {e}")))?
    };
    let block_like = matches!(
        body,
        Expr::Block(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Unsafe(_)
    );
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    } else if !input.is_empty() && !block_like {
        return Err(error(
            input.span(),
            "expected `,` after the branch's expression",
        ));
    }
    Ok(body)
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Select> {
        if input.is_empty() {
            return Err(error(
                Span::call_site(),
                format!("needs at least one branch {BRANCH_FORM}"),
            ));
        }
        let mut biased = false;
        if input.peek(syn::Ident) && input.peek2(Token![;]) {
            let ident: syn::Ident = input.parse()?;
            if ident != "biased" {
                return Err(error(
                    ident.span(),
                    format!("expected `biased;` or a branch {BRANCH_FORM}"),
                ));
            }
            input.parse::<Token![;]>()?;
            biased = true;
        }

        let mut branches = Vec::new();
        let mut else_body = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let else_token: Token![else] = input.parse()?;
                if !input.peek(Token![=>]) {
                    return Err(error(input.span(), "expected `=>` after `else`"));
                }
                input.parse::<Token![=>]>()?;
                let body = parse_body(input)?;
                if else_body.is_some() {
                    return Err(error(else_token.span, "only one `else` branch is allowed"));
                }
                else_body = Some(body);
                continue;
            }

            let pattern = Pat::parse_multi_with_leading_vert(input)
                .map_err(|e| error(e.span(), format!("expected {BRANCH_FORM}")))?;
            // `=>` also starts with `=`: look for it first.
            if input.peek(Token![=>]) {
                return Err(error(
                    input.span(),
                    format!("expected `= future` before `=>`: {BRANCH_FORM}"),
                ));
            }
            if !input.peek(Token![=]) {
                return Err(error(
                    input.span(),
                    format!("expected `=` after the pattern: {BRANCH_FORM}"),
                ));
            }
            input.parse::<Token![=]>()?;
            let future = Expr::parse_without_eager_brace(input).map_err(|e| {
                error(
                    e.span(),
                    format!("expected a future after `=`: {BRANCH_FORM}"),
                )
            })?;
            let condition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(Expr::parse_without_eager_brace(input)?)
            } else {
                None
            };
            if !input.peek(Token![=>]) {
                return Err(error(
                    input.span(),
                    format!("expected `=>` after the future of this branch: {BRANCH_FORM}"),
                ));
            }
            input.parse::<Token![=>]>()?;
            let body = parse_body(input)?;
            branches.push(Branch {
                pattern,
                future,
                condition,
                body,
            });
        }

        if branches.is_empty() {
            return Err(error(
                Span::call_site(),
                format!("needs at least one branch {BRANCH_FORM} besides `else`"),
            ));
        }
        Ok(Select {
            biased,
            branches,
            else_body,
        })
    }
}

/// Expands `select! { input }`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match Select::parse.parse2(input) {
        Ok(select) => expand_select(select),
        Err(e) => e.to_compile_error(),
    }
}

fn expand_select(select: Select) -> TokenStream {
    let count = select.branches.len();
    let hygienic = |name: &str| syn::Ident::new(name, Span::mixed_site());
    let (out_enum, out, disabled, cx, start, i, pending, value) = (
        hygienic("__MagpieSelectOut"),
        hygienic("__magpie_out"),
        hygienic("__magpie_disabled"),
        hygienic("__magpie_cx"),
        hygienic("__magpie_start"),
        hygienic("__magpie_i"),
        hygienic("__magpie_pending"),
        hygienic("__magpie_value"),
    );
    let params: Vec<_> = (0..count).map(|b| format_ident!("T{}", b)).collect();
    let variants: Vec<_> = (0..count).map(|b| format_ident!("B{}", b)).collect();
    let slots: Vec<_> = (0..count)
        .map(|b| format_ident!("__magpie_future_{}", b, span = Span::mixed_site()))
        .collect();

    let conditions = select
        .branches
        .iter()
        .enumerate()
        .filter_map(|(b, branch)| {
            branch.condition.as_ref().map(|condition| {
                quote! {
                    if !(#condition) {
                        #disabled[#b] = true;
                    }
                }
            })
        });
    let futures = select.branches.iter().map(|branch| &branch.future);
    let start_expr = if select.biased {
        quote!(0usize)
    } else {
        quote!(::magpie::__private::select_start(#count))
    };
    let poll_arms = select.branches.iter().enumerate().map(|(b, branch)| {
        let slot = &slots[b];
        let variant = &variants[b];
        let shape = shape_of(&branch.pattern);
        quote! {
            #b => {
                let #value = match ::core::future::Future::poll(#slot.as_mut(), #cx) {
                    ::core::task::Poll::Ready(#value) => #value,
                    ::core::task::Poll::Pending => {
                        #pending = true;
                        continue;
                    }
                };
                #disabled[#b] = true;
                match &#value {
                    #[allow(unused_variables)]
                    #shape => {}
                    #[allow(unreachable_patterns)]
                    _ => continue,
                }
                return ::core::task::Poll::Ready(#out_enum::#variant(#value));
            }
        }
    });
    let body_arms = select.branches.iter().enumerate().map(|(b, branch)| {
        let variant = &variants[b];
        let pattern = &branch.pattern;
        let body = &branch.body;
        quote!(#out_enum::#variant(#pattern) => #body,)
    });
    let else_body = match &select.else_body {
        Some(body) => body.to_token_stream(),
        None => quote!(::magpie::__private::all_branches_disabled()),
    };

    quote! {{
        #[allow(non_camel_case_types, clippy::all)]
        enum #out_enum<#(#params,)*> {
            #( #variants(#params), )*
            Disabled,
        }
        let #out = {
            let mut #disabled = [false; #count];
            #( #conditions )*
            #(
                let mut #slots = ::core::pin::pin!(::core::future::IntoFuture::into_future(#futures));
            )*
            ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
                let #start: usize = #start_expr;
                let mut #pending = false;
                for #i in 0..#count {
                    let #i = ::magpie::__private::nth_from(#start, #i, #count);
                    if #disabled[#i] {
                        continue;
                    }
                    match #i {
                        #( #poll_arms )*
                        _ => {}
                    }
                }
                if #pending {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(#out_enum::Disabled)
                }
            })
            .await
        };
        match #out {
            #( #body_arms )*
            #out_enum::Disabled => #else_body,
            #[allow(unreachable_patterns)]
            _ => ::core::unreachable!("magpie::select!: a value matched its pattern by reference but not by value"),
        }
    }}
}

/// The pattern with `ref` and `mut` dropped from its bindings: matched against a reference
/// to the value (default binding modes), it tells whether the value matches without moving
/// anything out of it.
fn shape_of(pattern: &Pat) -> Pat {
    let mut shape = pattern.clone();
    strip_binding_modes(&mut shape);
    shape
}

fn strip_binding_modes(pattern: &mut Pat) {
    match pattern {
        Pat::Ident(p) => {
            p.by_ref = None;
            p.mutability = None;
            if let Some((_, sub)) = &mut p.subpat {
                strip_binding_modes(sub);
            }
        }
        Pat::Or(p) => p.cases.iter_mut().for_each(strip_binding_modes),
        Pat::Paren(p) => strip_binding_modes(&mut p.pat),
        Pat::Reference(p) => strip_binding_modes(&mut p.pat),
        Pat::Slice(p) => p.elems.iter_mut().for_each(strip_binding_modes),
        Pat::Struct(p) => p
            .fields
            .iter_mut()
            .for_each(|field| strip_binding_modes(&mut field.pat)),
        Pat::Tuple(p) => p.elems.iter_mut().for_each(strip_binding_modes),
        Pat::TupleStruct(p) => p.elems.iter_mut().for_each(strip_binding_modes),
        Pat::Type(p) => strip_binding_modes(&mut p.pat),
        _ => {}
    }
}
