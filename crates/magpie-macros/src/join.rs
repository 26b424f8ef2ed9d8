//! `join!` and `try_join!`: poll several futures concurrently inside the current task.
//!
//! `magpie::join!(a, b)` expands to (names simplified; the real ones are hygienic):
//!
//! ```text
//! {
//!     let mut f0 = pin!(MaybeDone::new(a));      // evaluated in order, none polled yet
//!     let mut f1 = pin!(MaybeDone::new(b));
//!     let mut next = 0;                          // the future polled first, rotating
//!     poll_fn(|cx| {
//!         let mut pending = false;
//!         for i in 0..2 {
//!             match (next + i) % 2 {             // every unfinished future, each poll
//!                 0 => pending |= f0.as_mut().poll_done(cx).is_pending(),
//!                 1 => pending |= f1.as_mut().poll_done(cx).is_pending(),
//!                 _ => {}
//!             }
//!         }
//!         next = (next + 1) % 2;
//!         if pending { Poll::Pending } else { Poll::Ready((f0.take_output(), f1.take_output())) }
//!     }).await
//! }
//! ```
//!
//! The first future polled rotates, so that one future using up the task's cooperative
//! budget cannot starve the others. `try_join!` returns `Err` as soon as a future does;
//! leaving the block then drops the futures still running.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

/// Which macro is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `join!`: a tuple of every output.
    Join,
    /// `try_join!`: a tuple of every `Ok` value, or the first `Err`.
    TryJoin,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Join => "magpie::join!",
            Kind::TryJoin => "magpie::try_join!",
        }
    }
}

/// Expands `join!(input)` or `try_join!(input)`.
pub(crate) fn expand(kind: Kind, input: TokenStream) -> TokenStream {
    let name = kind.name();
    let futures = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(input) {
        Ok(futures) => futures,
        Err(e) => {
            return syn::Error::new(
                e.span(),
                format!("{name}: expected futures separated by commas, as in `{name}(a, b)`: {e}"),
            )
            .to_compile_error()
        }
    };
    if futures.is_empty() {
        return syn::Error::new(
            Span::call_site(),
            format!("{name}: needs at least one future, as in `{name}(a, b)`"),
        )
        .to_compile_error();
    }

    let count = futures.len();
    let hygienic = |name: &str| syn::Ident::new(name, Span::mixed_site());
    let slots: Vec<_> = (0..count)
        .map(|i| format_ident!("__magpie_future_{}", i, span = Span::mixed_site()))
        .collect();
    let (cx, i, next, start, pending, error) = (
        hygienic("__magpie_cx"),
        hygienic("__magpie_i"),
        hygienic("__magpie_next"),
        hygienic("__magpie_start"),
        hygienic("__magpie_pending"),
        hygienic("__magpie_error"),
    );
    let wrapper = match kind {
        Kind::Join => quote!(::magpie::__private::MaybeDone),
        Kind::TryJoin => quote!(::magpie::__private::TryMaybeDone),
    };
    let futures = futures.into_iter();
    let indices = 0..count;
    let poll_arms = slots.iter().map(|slot| match kind {
        Kind::Join => quote! {
            if #slot.as_mut().poll_done(#cx).is_pending() {
                #pending = true;
            }
        },
        Kind::TryJoin => quote! {
            match #slot.as_mut().poll_done(#cx) {
                ::core::task::Poll::Pending => #pending = true,
                ::core::task::Poll::Ready(::core::result::Result::Ok(())) => {}
                ::core::task::Poll::Ready(::core::result::Result::Err(#error)) => {
                    return ::core::task::Poll::Ready(::core::result::Result::Err(#error));
                }
            }
        },
    });
    let outputs = quote!(( #( #slots.as_mut().take_output(), )* ));
    let ready = match kind {
        Kind::Join => quote!(::core::task::Poll::Ready(#outputs)),
        Kind::TryJoin => {
            quote!(::core::task::Poll::Ready(::core::result::Result::Ok(#outputs)))
        }
    };

    quote! {{
        #(
            let mut #slots = ::core::pin::pin!(#wrapper::new(#futures));
        )*
        let mut #next: usize = 0;
        ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
            let mut #pending = false;
            let #start = #next;
            #next = ::magpie::__private::nth_from(#start, 1, #count);
            for #i in 0..#count {
                match ::magpie::__private::nth_from(#start, #i, #count) {
                    #( #indices => { #poll_arms } )*
                    _ => {}
                }
            }
            if #pending {
                return ::core::task::Poll::Pending;
            }
            #ready
        })
        .await
    }}
}
