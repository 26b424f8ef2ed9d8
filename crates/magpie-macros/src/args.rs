//! Parsing of the attribute arguments: a comma-separated list of
//! `name = value` pairs, each of which becomes one call on
//! `::magpie::Builder`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, Token};

use crate::Attr;

/// An argument key that both attributes accept.
///
/// A key named `foo` maps to a `.foo(value)` call on `::magpie::Builder`,
/// so adding an argument is one more entry in [`KEYS`].
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
}

/// Every argument that `#[magpie::main]` and `#[magpie::test]` accept.
pub(crate) const KEYS: &[Key] = &[
    Key::new("worker_threads", "N", ValueKind::PositiveInt),
    Key::new("start_paused", "true", ValueKind::Bool),
];

/// One validated argument: the builder method to call and its argument.
pub(crate) struct Setting {
    /// The key's name, which is the builder method's name.
    pub(crate) name: &'static str,
    /// Where the argument was written (for spans in the expansion).
    pub(crate) span: Span,
    /// The value to pass to the builder method.
    pub(crate) value: TokenStream,
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
        self.settings.iter().any(|s| s.name == name)
    }

    /// Adds a setting unless its key was already given (used for
    /// per-attribute defaults).
    pub(crate) fn set_default(&mut self, name: &'static str, value: TokenStream) {
        if !self.has(name) {
            self.settings.push(Setting {
                name,
                span: Span::call_site(),
                value,
            });
        }
    }

    /// The builder method calls, e.g. `.worker_threads(2)`.
    pub(crate) fn builder_calls(&self) -> TokenStream {
        self.settings
            .iter()
            .map(|s| {
                let method = syn::Ident::new(s.name, s.span);
                let value = &s.value;
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
            Ok(value) => config.settings.push(Setting {
                name: key.name,
                span: path.span(),
                value,
            }),
            Err(e) => errors.push(e),
        }
    }

    (config, errors.into_error())
}

/// Checks `value` against the kind of value `key` takes and returns the
/// tokens to pass to the builder method.
fn parse_value(key: &Key, value: &Expr) -> syn::Result<TokenStream> {
    let lit = match value {
        Expr::Lit(ExprLit { lit, attrs }) if attrs.is_empty() => Some(lit),
        _ => None,
    };
    match key.kind {
        ValueKind::PositiveInt => match lit {
            Some(Lit::Int(int)) => match int.base10_parse::<usize>() {
                Ok(n) if n > 0 => {
                    let mut lit = Literal::usize_unsuffixed(n);
                    lit.set_span(int.span());
                    Ok(lit.into_token_stream())
                }
                _ => Err(positive_int_error(key, value)),
            },
            _ => Err(positive_int_error(key, value)),
        },
        ValueKind::Bool => match lit {
            Some(Lit::Bool(b)) => Ok(quote!(#b)),
            _ => Err(syn::Error::new_spanned(
                value,
                format!("`{}` must be `true` or `false`", key.name),
            )),
        },
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

    fn calls(args: TokenStream, keys: &[Key]) -> Result<String, String> {
        match parse(Attr::Main, args, keys) {
            (config, None) => Ok(config.builder_calls().to_string()),
            (_, Some(e)) => Err(e.to_string()),
        }
    }

    #[test]
    fn empty() {
        assert_eq!(calls(quote!(), KEYS), Ok(String::new()));
    }

    #[test]
    fn worker_threads() {
        assert_eq!(
            calls(quote!(worker_threads = 4), KEYS),
            Ok(". worker_threads (4)".into())
        );
        assert_eq!(
            calls(quote!(worker_threads = 4,), KEYS),
            Ok(". worker_threads (4)".into())
        );
        assert_eq!(
            calls(quote!(worker_threads = 4usize), KEYS),
            Ok(". worker_threads (4)".into())
        );
    }

    #[test]
    fn bad_worker_threads() {
        let msg = "`worker_threads` must be an integer greater than 0";
        assert_eq!(calls(quote!(worker_threads = 0), KEYS), Err(msg.into()));
        assert_eq!(calls(quote!(worker_threads = -1), KEYS), Err(msg.into()));
        assert_eq!(calls(quote!(worker_threads = "two"), KEYS), Err(msg.into()));
        assert_eq!(calls(quote!(worker_threads = n), KEYS), Err(msg.into()));
        assert_eq!(
            calls(quote!(worker_threads), KEYS),
            Err("`worker_threads` takes a value: `worker_threads = N`".into())
        );
    }

    #[test]
    fn unknown_and_duplicate() {
        assert_eq!(
            calls(quote!(foo = 1), KEYS),
            Err(
                "unknown argument `foo` to #[magpie::main]; expected one of \
                 `worker_threads = N`, `start_paused = true`"
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
            calls(quote!(worker_threads = 1, worker_threads = 2), KEYS),
            Err("duplicate argument `worker_threads` to #[magpie::main]".into())
        );
    }

    #[test]
    fn all_errors_reported() {
        let (config, err) = parse(Attr::Main, quote!(foo = 1, worker_threads = 3, bar), KEYS);
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
}
