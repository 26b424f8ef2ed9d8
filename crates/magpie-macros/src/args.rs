//! Parsing of the attribute arguments: a comma-separated list of
//! `name = value` pairs. Most become one call on `::magpie::Builder`;
//! `flavor` picks the builder and `explore` (tests only) the way the body runs.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, Token};

use crate::Attr;

/// An argument key that the attributes accept.
///
/// A key whose [`ValueKind`] is `PositiveInt` or `Bool` maps to a `.name(value)`
/// call on `::magpie::Builder` (see [`Config::builder_calls`]), unless it is
/// one of the keys read by the expansion itself ([`NOT_BUILDER_CALLS`]).
#[derive(Clone, Copy)]
pub(crate) struct Key {
    /// The argument's name, which is also the name of the builder method.
    pub(crate) name: &'static str,
    /// A sample value, shown in error messages (`N` in `worker_threads = N`).
    pub(crate) sample: &'static str,
    /// What kind of value the argument takes.
    pub(crate) kind: ValueKind,
}

impl Key {
    /// A key called `name` whose values are of kind `kind`; `sample` is
    /// shown in error messages as `name = sample`.
    pub(crate) const fn new(name: &'static str, sample: &'static str, kind: ValueKind) -> Key {
        Key { name, sample, kind }
    }

    /// How the argument is written, e.g. `worker_threads = N`.
    fn usage(&self) -> String {
        format!("{} = {}", self.name, self.sample)
    }
}

/// The kinds of value that an argument can take.
#[derive(Clone, Copy)]
pub(crate) enum ValueKind {
    /// An integer literal greater than zero, passed on as a `usize`.
    PositiveInt,
    /// `true` or `false`.
    Bool,
    /// `"current_thread"` or `"multi_thread"`.
    Flavor,
}

/// The runtime an attribute builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_current_thread()`: every task runs on the thread inside `block_on`.
    CurrentThread,
    /// `Runtime::builder()`: worker threads (the default).
    MultiThread,
}

impl Flavor {
    /// The flavors, as written in the attribute.
    const NAMES: [(&'static str, Flavor); 2] = [
        ("current_thread", Flavor::CurrentThread),
        ("multi_thread", Flavor::MultiThread),
    ];
}

/// Every argument that `#[magpie::main]` accepts.
pub(crate) const MAIN_KEYS: &[Key] = &[
    Key::new("flavor", "\"current_thread\"", ValueKind::Flavor),
    Key::new("worker_threads", "N", ValueKind::PositiveInt),
    Key::new("start_paused", "true", ValueKind::Bool),
];

/// Every argument that `#[magpie::test]` accepts: those of `main` and `explore`.
pub(crate) const TEST_KEYS: &[Key] = &[
    Key::new("flavor", "\"current_thread\"", ValueKind::Flavor),
    Key::new("worker_threads", "N", ValueKind::PositiveInt),
    Key::new("start_paused", "true", ValueKind::Bool),
    Key::new("explore", "N", ValueKind::PositiveInt),
];

/// The keys that the expansion reads itself instead of passing them to a
/// builder method of the same name.
const NOT_BUILDER_CALLS: &[&str] = &["flavor", "explore"];

/// A validated value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// Of a [`ValueKind::PositiveInt`] key.
    Int(usize),
    /// Of a [`ValueKind::Bool`] key.
    Bool(bool),
    /// Of a [`ValueKind::Flavor`] key.
    Flavor(Flavor),
}

/// One validated argument.
pub(crate) struct Setting {
    /// The key's name, which is the builder method's name.
    pub(crate) name: &'static str,
    /// Where the argument was written (for spans in the expansion and errors).
    pub(crate) span: Span,
    /// Where the value was written (for the span of the builder call's argument).
    value_span: Span,
    /// The value.
    pub(crate) value: Value,
}

impl Setting {
    /// The tokens to pass to the builder method.
    fn value_tokens(&self) -> TokenStream {
        match self.value {
            Value::Int(n) => {
                let mut lit = Literal::usize_unsuffixed(n);
                lit.set_span(self.value_span);
                lit.into_token_stream()
            }
            Value::Bool(b) => {
                let lit = syn::LitBool::new(b, self.value_span);
                quote!(#lit)
            }
            // Never passed to a builder method (`NOT_BUILDER_CALLS`).
            Value::Flavor(_) => TokenStream::new(),
        }
    }
}

/// The validated arguments of one attribute, in the order written.
#[derive(Default)]
pub(crate) struct Config {
    /// The settings, at most one per key.
    pub(crate) settings: Vec<Setting>,
}

impl Config {
    /// Whether the key called `name` was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The setting of the key called `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// Leaves out the setting of the key called `name` (after reporting it as
    /// misplaced, so that the expansion goes on without it).
    pub(crate) fn remove(&mut self, name: &str) {
        self.settings.retain(|s| s.name != name);
    }

    /// The `flavor` given, or the default, multi-thread.
    pub(crate) fn flavor(&self) -> Flavor {
        match self.get("flavor").map(|s| s.value) {
            Some(Value::Flavor(flavor)) => flavor,
            _ => Flavor::MultiThread,
        }
    }

    /// The number of runs `explore = N` asks for.
    pub(crate) fn explore(&self) -> Option<usize> {
        match self.get("explore").map(|s| s.value) {
            Some(Value::Int(n)) => Some(n),
            _ => None,
        }
    }

    /// Adds a setting unless its key was already given (used for
    /// per-attribute defaults).
    pub(crate) fn set_default(&mut self, name: &'static str, value: Value) {
        if !self.has(name) {
            self.settings.push(Setting {
                name,
                span: Span::call_site(),
                value_span: Span::call_site(),
                value,
            });
        }
    }

    /// The builder method calls, e.g. `.worker_threads(2)`.
    pub(crate) fn builder_calls(&self) -> TokenStream {
        self.settings
            .iter()
            .filter(|s| !NOT_BUILDER_CALLS.contains(&s.name))
            .map(|s| {
                let method = syn::Ident::new(s.name, s.span);
                let value = s.value_tokens();
                quote_spanned!(s.span=> .#method(#value))
            })
            .collect()
    }
}

/// Parses `args` against `keys`.
///
/// Never fails outright: invalid arguments are left out of the returned
/// [`Config`] and reported in the returned error, so the caller can still
/// expand the function and keep follow-on errors down.
pub(crate) fn parse(attr: Attr, args: TokenStream, keys: &[Key]) -> (Config, Option<syn::Error>) {
    let mut config = Config::default();
    let mut errors = Errors::default();

    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(e) => return (config, Some(e)),
    };

    for meta in metas {
        let path = meta.path();
        let name = path_to_string(path);
        let Some(key) = keys.iter().find(|k| k.name == name) else {
            if attr == Attr::Main && name == "explore" {
                errors.push(syn::Error::new_spanned(
                    path,
                    "`explore` runs a test under many schedules: it is an argument of \
                     #[magpie::test] only",
                ));
                continue;
            }
            errors.push(syn::Error::new_spanned(
                path,
                format!(
                    "unknown argument `{name}` to {attr}; expected {}",
                    expected(keys)
                ),
            ));
            continue;
        };
        let value = match &meta {
            Meta::NameValue(nv) => &nv.value,
            Meta::Path(_) | Meta::List(_) => {
                errors.push(syn::Error::new_spanned(
                    &meta,
                    format!("`{}` takes a value: `{}`", key.name, key.usage()),
                ));
                continue;
            }
        };
        if config.has(key.name) {
            errors.push(syn::Error::new_spanned(
                path,
                format!("duplicate argument `{}` to {attr}", key.name),
            ));
            continue;
        }
        match parse_value(key, value) {
            Ok(parsed) => config.settings.push(Setting {
                name: key.name,
                span: path.span(),
                value_span: value.span(),
                value: parsed,
            }),
            Err(e) => errors.push(e),
        }
    }

    (config, errors.into_error())
}

/// Checks `value` against the kind of value `key` takes.
fn parse_value(key: &Key, value: &Expr) -> syn::Result<Value> {
    let lit = match value {
        Expr::Lit(ExprLit { lit, attrs }) if attrs.is_empty() => Some(lit),
        _ => None,
    };
    match key.kind {
        ValueKind::PositiveInt => match lit {
            Some(Lit::Int(int)) => match int.base10_parse::<usize>() {
                Ok(n) if n > 0 => Ok(Value::Int(n)),
                _ => Err(positive_int_error(key, value)),
            },
            _ => Err(positive_int_error(key, value)),
        },
        ValueKind::Bool => match lit {
            Some(Lit::Bool(b)) => Ok(Value::Bool(b.value)),
            _ => Err(syn::Error::new_spanned(
                value,
                format!("`{}` must be `true` or `false`", key.name),
            )),
        },
        ValueKind::Flavor => {
            let expected = "expected `\"current_thread\"` or `\"multi_thread\"`";
            match lit {
                Some(Lit::Str(s)) => Flavor::NAMES
                    .iter()
                    .find(|(name, _)| *name == s.value())
                    .map(|&(_, flavor)| Value::Flavor(flavor))
                    .ok_or_else(|| {
                        syn::Error::new_spanned(
                            value,
                            format!("unknown flavor {:?}; {expected}", s.value()),
                        )
                    }),
                _ => Err(syn::Error::new_spanned(
                    value,
                    format!("`{}` must be a string: {expected}", key.name),
                )),
            }
        }
    }
}

fn positive_int_error(key: &Key, value: &Expr) -> syn::Error {
    syn::Error::new_spanned(
        value,
        format!("`{}` must be an integer greater than 0", key.name),
    )
}

/// "`a = N`" or "one of `a = N`, `b = true`".
fn expected(keys: &[Key]) -> String {
    let list: Vec<String> = keys.iter().map(|k| format!("`{}`", k.usage())).collect();
    match list.len() {
        0 => "no arguments".to_owned(),
        1 => list[0].clone(),
        _ => format!("one of {}", list.join(", ")),
    }
}

fn path_to_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let joined = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

/// Accumulates errors so that all of them are reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(existing) => existing.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn extend(&mut self, error: Option<syn::Error>) {
        if let Some(error) = error {
            self.push(error);
        }
    }

    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_BOOL: &[Key] = &[
        Key::new("worker_threads", "N", ValueKind::PositiveInt),
        Key::new("start_paused", "true", ValueKind::Bool),
    ];

    fn parse_test(args: TokenStream) -> Result<Config, String> {
        match parse(Attr::Test, args, TEST_KEYS) {
            (config, None) => Ok(config),
            (_, Some(e)) => Err(e.to_string()),
        }
    }

    fn calls(args: TokenStream, keys: &[Key]) -> Result<String, String> {
        match parse(Attr::Main, args, keys) {
            (config, None) => Ok(config.builder_calls().to_string()),
            (_, Some(e)) => Err(e.to_string()),
        }
    }

    #[test]
    fn empty() {
        assert_eq!(calls(quote!(), MAIN_KEYS), Ok(String::new()));
    }

    #[test]
    fn worker_threads() {
        assert_eq!(
            calls(quote!(worker_threads = 4), MAIN_KEYS),
            Ok(". worker_threads (4)".into())
        );
        assert_eq!(
            calls(quote!(worker_threads = 4,), MAIN_KEYS),
            Ok(". worker_threads (4)".into())
        );
        assert_eq!(
            calls(quote!(worker_threads = 4usize), MAIN_KEYS),
            Ok(". worker_threads (4)".into())
        );
    }

    #[test]
    fn bad_worker_threads() {
        let msg = "`worker_threads` must be an integer greater than 0";
        assert_eq!(
            calls(quote!(worker_threads = 0), MAIN_KEYS),
            Err(msg.into())
        );
        assert_eq!(
            calls(quote!(worker_threads = -1), MAIN_KEYS),
            Err(msg.into())
        );
        assert_eq!(
            calls(quote!(worker_threads = "two"), MAIN_KEYS),
            Err(msg.into())
        );
        assert_eq!(
            calls(quote!(worker_threads = n), MAIN_KEYS),
            Err(msg.into())
        );
        assert_eq!(
            calls(quote!(worker_threads), MAIN_KEYS),
            Err("`worker_threads` takes a value: `worker_threads = N`".into())
        );
    }

    #[test]
    fn unknown_and_duplicate() {
        assert_eq!(
            calls(quote!(foo = 1), MAIN_KEYS),
            Err(
                "unknown argument `foo` to #[magpie::main]; expected one of \
                 `flavor = \"current_thread\"`, `worker_threads = N`, `start_paused = true`"
                    .into()
            )
        );
        assert_eq!(
            calls(quote!(foo = 1), WITH_BOOL),
            Err(
                "unknown argument `foo` to #[magpie::main]; expected one of \
                 `worker_threads = N`, `start_paused = true`"
                    .into()
            )
        );
        assert_eq!(
            calls(quote!(worker_threads = 1, worker_threads = 2), MAIN_KEYS),
            Err("duplicate argument `worker_threads` to #[magpie::main]".into())
        );
    }

    #[test]
    fn all_errors_reported() {
        let (config, err) = parse(
            Attr::Main,
            quote!(foo = 1, worker_threads = 3, bar),
            MAIN_KEYS,
        );
        assert_eq!(config.builder_calls().to_string(), ". worker_threads (3)");
        assert_eq!(err.unwrap().into_iter().count(), 2);
    }

    #[test]
    fn bool_keys() {
        assert_eq!(
            calls(quote!(worker_threads = 2, start_paused = true), WITH_BOOL),
            Ok(". worker_threads (2) . start_paused (true)".into())
        );
        assert_eq!(
            calls(quote!(start_paused = 1), WITH_BOOL),
            Err("`start_paused` must be `true` or `false`".into())
        );
    }

    #[test]
    fn flavors() {
        let config = parse_test(quote!(flavor = "current_thread")).unwrap();
        assert_eq!(config.flavor(), Flavor::CurrentThread);
        assert_eq!(config.builder_calls().to_string(), "");
        let config = parse_test(quote!(flavor = "multi_thread", worker_threads = 2)).unwrap();
        assert_eq!(config.flavor(), Flavor::MultiThread);
        assert_eq!(config.builder_calls().to_string(), ". worker_threads (2)");
        assert_eq!(parse_test(quote!()).unwrap().flavor(), Flavor::MultiThread);
    }

    #[test]
    fn bad_flavor() {
        let expected = "expected `\"current_thread\"` or `\"multi_thread\"`";
        assert_eq!(
            parse_test(quote!(flavor = "single_thread")).err(),
            Some(format!("unknown flavor \"single_thread\"; {expected}"))
        );
        assert_eq!(
            parse_test(quote!(flavor = current_thread)).err(),
            Some(format!("`flavor` must be a string: {expected}"))
        );
        assert_eq!(
            parse_test(quote!(flavor)).err(),
            Some("`flavor` takes a value: `flavor = \"current_thread\"`".into())
        );
    }

    #[test]
    fn explore() {
        let config = parse_test(quote!(explore = 500)).unwrap();
        assert_eq!(config.explore(), Some(500));
        assert_eq!(config.builder_calls().to_string(), "");
        let config = parse_test(quote!(explore = 5, start_paused = true)).unwrap();
        assert_eq!(config.explore(), Some(5));
        assert_eq!(config.builder_calls().to_string(), ". start_paused (true)");
        assert_eq!(parse_test(quote!()).unwrap().explore(), None);
        assert_eq!(
            parse_test(quote!(explore = 0)).err(),
            Some("`explore` must be an integer greater than 0".into())
        );
    }

    #[test]
    fn explore_is_for_tests_only() {
        assert_eq!(
            calls(quote!(explore = 5), MAIN_KEYS),
            Err(
                "`explore` runs a test under many schedules: it is an argument of \
                 #[magpie::test] only"
                    .into()
            )
        );
    }
}
