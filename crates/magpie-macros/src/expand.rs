//! Turning an `async fn` into a plain `fn` that runs its body on a fresh
//! `magpie` runtime.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::punctuated::Punctuated;
use syn::{Attribute, ItemFn};

use crate::args::{self, Errors, Flavor, Value, MAIN_KEYS, TEST_KEYS};
use crate::Attr;

/// Expands `#[magpie::main(args)]` or `#[magpie::test(args)]` on `item`.
///
/// Errors come back as `compile_error!` invocations next to a best-effort
/// expansion of the function, so that one mistake does not also produce
/// "`main` function not found" or similar follow-on errors.
pub(crate) fn expand(attr: Attr, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(e) => {
            let error = e.to_compile_error();
            return quote!(#error #item);
        }
    };

    let mut errors = Errors::default();
    let keys = match attr {
        Attr::Main => MAIN_KEYS,
        Attr::Test => TEST_KEYS,
    };
    let (mut config, arg_errors) = args::parse(attr, args, keys);
    errors.extend(arg_errors);
    check_combinations(attr, &mut config, &mut errors);

    // Per-attribute defaults. `#[magpie::main]` keeps the builder's default.
    if attr == Attr::Test && config.flavor() == Flavor::MultiThread && config.explore().is_none() {
        config.set_default("worker_threads", Value::Int(1));
    }

    let is_async = func.sig.asyncness.is_some();
    if !is_async {
        errors.push(syn::Error::new_spanned(
            func.sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration: \
                 {attr} requires an `async fn`"
            ),
        ));
    }
    let has_inputs = !func.sig.inputs.is_empty();
    if has_inputs {
        errors.push(syn::Error::new_spanned(
            &func.sig.inputs,
            format!("{attr} functions cannot take arguments"),
        ));
    }
    if attr == Attr::Test {
        func.attrs.retain(|a| {
            if is_test_attr(a) {
                errors.push(syn::Error::new_spanned(
                    a,
                    "second test attribute is supplied: #[magpie::test] already adds `#[test]`",
                ));
                false
            } else {
                true
            }
        });
    }

    let body = if is_async && !has_inputs {
        runtime_body(&config, &func)
    } else if !has_inputs {
        // A plain `fn`: keep it as written so its body is still checked.
        func.block.to_token_stream()
    } else {
        // The body refers to the arguments, which we drop.
        quote!({ ::core::unimplemented!() })
    };

    let ItemFn {
        attrs,
        vis,
        mut sig,
        ..
    } = func;
    sig.asyncness = None;
    sig.inputs = Punctuated::new();
    let test_attr = match attr {
        Attr::Main => quote!(),
        Attr::Test => quote!(#[::core::prelude::v1::test]),
    };
    let errors = errors.into_error().map(|e| e.to_compile_error());

    quote! {
        #errors
        #test_attr
        #(#attrs)*
        #vis #sig #body
    }
}

/// Reports the arguments that do not go together, and leaves them out of
/// `config` so that the expansion goes on with the rest.
fn check_combinations(attr: Attr, config: &mut args::Config, errors: &mut Errors) {
    if config.explore().is_some() {
        let mut misplaced = Vec::new();
        if let Some(flavor) = config.get("flavor") {
            if config.flavor() == Flavor::MultiThread {
                errors.push(syn::Error::new(
                    flavor.span,
                    "`explore` runs the test on a current-thread runtime, whose order of tasks \
                     a seed decides: it cannot be combined with `flavor = \"multi_thread\"` \
                     (worker threads run in the order the OS picks)",
                ));
            }
            misplaced.push("flavor");
        }
        if let Some(workers) = config.get("worker_threads") {
            errors.push(syn::Error::new(
                workers.span,
                "`worker_threads` does not apply to `explore`: it runs the test on a \
                 current-thread runtime, with no worker threads",
            ));
            misplaced.push("worker_threads");
        }
        if let Some(paused) = config.get("start_paused") {
            if paused.value == Value::Bool(false) {
                errors.push(syn::Error::new(
                    paused.span,
                    "`explore` always starts the clock paused, so that timers fire in an \
                     order the seed decides: remove `start_paused = false`",
                ));
            }
            misplaced.push("start_paused");
        }
        for name in misplaced {
            config.remove(name);
        }
    } else if config.flavor() == Flavor::CurrentThread {
        if let Some(workers) = config.get("worker_threads") {
            errors.push(syn::Error::new(
                workers.span,
                format!(
                    "`worker_threads` does not apply to `flavor = \"current_thread\"`: every \
                     task runs on the thread that runs the {attr} function; remove \
                     `worker_threads`, or use `flavor = \"multi_thread\"`"
                ),
            ));
            config.remove("worker_threads");
        }
    }
}

/// The new body:
///
/// ```text
/// {
///     let body = async move { /* the original body */ };
///     ::magpie::Runtime::builder() /* .worker_threads(N) */
///         .build()
///         .expect("magpie::main: failed to build the runtime")
///         .block_on(body)
/// }
/// ```
///
/// With `flavor = "current_thread"` the builder is
/// `::magpie::Builder::new_current_thread()`; with `explore = N` the body is a
/// closure that makes a fresh future for each run (see [`explore_body`]).
///
/// The runtime call carries the span of the original body, so that type
/// errors (such as a body whose value does not match the declared return
/// type) point into user code. The body is bound outside the `#[allow]`ed
/// block so the lints are only relaxed for generated code.
fn runtime_body(config: &args::Config, func: &ItemFn) -> TokenStream {
    if let Some(runs) = config.explore() {
        return explore_body(runs, func);
    }
    let block = &func.block;
    let span = block.brace_token.span.join();
    let body = syn::Ident::new("body", Span::mixed_site());
    let calls = config.builder_calls();
    let builder = match config.flavor() {
        Flavor::MultiThread => quote_spanned!(span=> ::magpie::Runtime::builder()),
        Flavor::CurrentThread => quote_spanned!(span=> ::magpie::Builder::new_current_thread()),
    };
    let run = quote_spanned! {span=>
        #[allow(
            clippy::expect_used,
            clippy::diverging_sub_expression,
            clippy::needless_return
        )]
        {
            return #builder
                #calls
                .build()
                .expect("magpie::main: failed to build the runtime")
                .block_on(#body);
        }
    };
    quote! {
        {
            let #body = async move #block;
            #run
        }
    }
}

/// The body of an `explore = N` test:
///
/// ```text
/// {
///     let body = || async move { /* the original body */ };
///     ::magpie::__private::explore(
///         concat!(module_path!(), "::", stringify!(name)),
///         N,
///         body,
///     )
/// }
/// ```
///
/// `magpie::__private::explore` (crates/magpie/src/explore.rs) runs the
/// seeds, reports a failing one and replays `MAGPIE_SEED`.
fn explore_body(runs: usize, func: &ItemFn) -> TokenStream {
    let block = &func.block;
    let span = block.brace_token.span.join();
    let body = syn::Ident::new("body", Span::mixed_site());
    let name = &func.sig.ident;
    let mut runs = Literal::u64_unsuffixed(runs as u64);
    runs.set_span(span);
    let run = quote_spanned! {span=>
        #[allow(clippy::diverging_sub_expression, clippy::needless_return)]
        {
            return ::magpie::__private::explore(
                ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
                #runs,
                #body,
            );
        }
    };
    quote! {
        {
            let #body = || async move #block;
            #run
        }
    }
}

/// Whether `attr` is `#[test]` (or a path ending in `test`, such as
/// `#[core::prelude::v1::test]` or another runtime's test attribute).
fn is_test_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "test")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion as a string with all whitespace removed.
    fn expanded(attr: Attr, args: TokenStream, item: TokenStream) -> String {
        let mut s = expand(attr, args, item).to_string();
        s.retain(|c| !c.is_whitespace());
        s
    }

    #[test]
    fn main_uses_default_workers() {
        let out = expanded(
            Attr::Main,
            quote!(),
            quote!(
                async fn main() {}
            ),
        );
        assert!(out.starts_with("fnmain(){"), "{out}");
        assert!(
            out.contains("::magpie::Runtime::builder().build()"),
            "{out}"
        );
        assert!(!out.contains("worker_threads"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn main_with_workers_and_return_type() {
        let out = expanded(
            Attr::Main,
            quote!(worker_threads = 3),
            quote!(
                async fn main() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(out.starts_with("fnmain()->Result<(),E>{"), "{out}");
        assert!(out.contains("builder().worker_threads(3).build()"), "{out}");
        assert!(out.contains("asyncmove{Ok(())}"), "{out}");
    }

    #[test]
    fn test_defaults_to_one_worker_and_keeps_attributes() {
        let out = expanded(
            Attr::Test,
            quote!(),
            quote!(
                /// Docs.
                #[should_panic]
                async fn t() {}
            ),
        );
        assert!(
            out.starts_with("#[::core::prelude::v1::test]#[doc=r\"Docs.\"]#[should_panic]fnt(){"),
            "{out}"
        );
        assert!(out.contains("builder().worker_threads(1).build()"), "{out}");
    }

    #[test]
    fn test_with_workers() {
        let out = expanded(
            Attr::Test,
            quote!(worker_threads = 2),
            quote!(
                async fn t() {}
            ),
        );
        assert!(out.contains("builder().worker_threads(2).build()"), "{out}");
        assert!(!out.contains("worker_threads(1)"), "{out}");
    }

    #[test]
    fn errors_keep_the_function() {
        // Not async: the function is kept as written, next to the error.
        let out = expanded(
            Attr::Main,
            quote!(),
            quote!(
                fn main() {
                    run()
                }
            ),
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("fnmain(){run()}"), "{out}");
        assert!(!out.contains("magpie::Runtime"), "{out}");

        // Bad argument: still expanded, with the defaults.
        let out = expanded(
            Attr::Test,
            quote!(worker_threads = 0),
            quote!(
                async fn t() {}
            ),
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("worker_threads(1)"), "{out}");

        // Not a function at all.
        let out = expanded(
            Attr::Main,
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.ends_with("structS;"), "{out}");
    }

    #[test]
    fn current_thread_flavor_uses_the_current_thread_builder() {
        for attr in [Attr::Main, Attr::Test] {
            let out = expanded(
                attr,
                quote!(flavor = "current_thread", start_paused = true),
                quote!(
                    async fn t() {}
                ),
            );
            assert!(
                out.contains("::magpie::Builder::new_current_thread().start_paused(true).build()"),
                "{out}"
            );
            assert!(!out.contains("worker_threads"), "{out}");
            assert!(!out.contains("compile_error"), "{out}");
        }
    }

    #[test]
    fn multi_thread_flavor_is_the_default() {
        let out = expanded(
            Attr::Test,
            quote!(flavor = "multi_thread"),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            out.contains("::magpie::Runtime::builder().worker_threads(1).build()"),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn worker_threads_with_current_thread_is_an_error() {
        let out = expanded(
            Attr::Main,
            quote!(flavor = "current_thread", worker_threads = 2),
            quote!(
                async fn main() {}
            ),
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains("doesnotapplyto`flavor=\\\"current_thread\\\"`"),
            "{out}"
        );
        // Expanded all the same, without the misplaced argument.
        assert!(
            out.contains("::magpie::Builder::new_current_thread().build()"),
            "{out}"
        );
    }

    #[test]
    fn explore_expands_to_a_closure_run_per_seed() {
        let out = expanded(
            Attr::Test,
            quote!(explore = 50),
            quote!(
                async fn finds_it() {
                    check().await
                }
            ),
        );
        assert!(!out.contains("compile_error"), "{out}");
        assert!(
            out.starts_with("#[::core::prelude::v1::test]fnfinds_it(){"),
            "{out}"
        );
        assert!(out.contains("letbody=||asyncmove{check().await};"), "{out}");
        assert!(
            out.contains(
                "return::magpie::__private::explore(::core::concat!(::core::module_path!(),\
                 \"::\",::core::stringify!(finds_it)),50,body,);"
            ),
            "{out}"
        );
        assert!(!out.contains("Runtime::builder"), "{out}");
        assert!(!out.contains("worker_threads"), "{out}");
    }

    #[test]
    fn explore_rejects_what_needs_threads_or_a_real_clock() {
        for (args, message) in [
            (
                quote!(explore = 5, flavor = "multi_thread"),
                "itcannotbecombinedwith`flavor=\\\"multi_thread\\\"`",
            ),
            (
                quote!(explore = 5, worker_threads = 2),
                "`worker_threads`doesnotapplyto`explore`",
            ),
            (
                quote!(start_paused = false, explore = 5),
                "remove`start_paused=false`",
            ),
        ] {
            let out = expanded(
                Attr::Test,
                args,
                quote!(
                    async fn t() {}
                ),
            );
            assert!(out.contains("compile_error"), "{out}");
            assert!(out.contains(message), "{message}: {out}");
            assert!(out.contains("__private::explore("), "{out}");
        }
        // What `explore` implies anyway is accepted.
        let out = expanded(
            Attr::Test,
            quote!(explore = 5, flavor = "current_thread", start_paused = true),
            quote!(
                async fn t() {}
            ),
        );
        assert!(!out.contains("compile_error"), "{out}");
    }
}
