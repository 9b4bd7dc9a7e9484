//! Stripe.js from WASM: loaded only when a payment method is added, its
//! card Element mounted in the page, and the setups and authentications
//! confirmed by it. Card data stays between the page and Stripe.
//! (Outside the browser these calls only say they cannot run.)

/// Stripe.js's objects for one form: the `Stripe` instance and its card
/// Element.
#[derive(Clone)]
pub struct Mounted {
    #[cfg(feature = "hydrate")]
    stripe: wasm_bindgen::JsValue,
    #[cfg(feature = "hydrate")]
    card: Option<wasm_bindgen::JsValue>,
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Mounted;
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
        Reflect::get(target, &JsValue::from_str(key)).map_err(|_| format!("no {key}"))
    }

    fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
        let f: Function = get(target, method)?
            .dyn_into()
            .map_err(|_| format!("{method} is not a function"))?;
        let args: js_sys::Array = args.iter().collect();
        f.apply(target, &args)
            .map_err(|e| format!("{method} failed: {e:?}"))
    }

    fn object(entries: &[(&str, JsValue)]) -> JsValue {
        let o = Object::new();
        for (k, v) in entries {
            let _ = Reflect::set(&o, &JsValue::from_str(k), v);
        }
        o.into()
    }

    /// Adds `<script src=url>` once and waits for it (the page's policy
    /// allows the configured Stripe.js origin and nothing else).
    pub async fn load(url: &str) -> Result<(), String> {
        let window = js_sys::global();
        if get(&window, "Stripe").is_ok_and(|s| s.is_function()) {
            return Ok(());
        }
        let document = get(&window, "document")?;
        let script = call(&document, "createElement", &[JsValue::from_str("script")])?;
        Reflect::set(&script, &"src".into(), &JsValue::from_str(url)).map_err(|_| "src")?;
        let loaded = Promise::new(&mut |resolve, reject| {
            let _ = Reflect::set(&script, &"onload".into(), &resolve);
            let _ = Reflect::set(&script, &"onerror".into(), &reject);
        });
        let head = get(&document, "head")?;
        call(&head, "appendChild", std::slice::from_ref(&script))?;
        JsFuture::from(loaded)
            .await
            .map(|_| ())
            .map_err(|_| "the payment provider's script did not load".to_string())
    }

    fn instance(publishable_key: &str) -> Result<JsValue, String> {
        let window = js_sys::global();
        let stripe_fn: Function = get(&window, "Stripe")?
            .dyn_into()
            .map_err(|_| "Stripe.js is not loaded")?;
        stripe_fn
            .call1(&JsValue::NULL, &JsValue::from_str(publishable_key))
            .map_err(|e| format!("Stripe() failed: {e:?}"))
    }

    /// Stripe for this form, with its card Element mounted on `selector`
    /// when one is given (a SEPA form has none).
    pub fn mount(publishable_key: &str, selector: Option<&str>) -> Result<Mounted, String> {
        let stripe = instance(publishable_key)?;
        let card = match selector {
            Some(selector) => {
                let elements = call(&stripe, "elements", &[])?;
                let card = call(&elements, "create", &[JsValue::from_str("card")])?;
                call(&card, "mount", &[JsValue::from_str(selector)])?;
                Some(card)
            }
            None => None,
        };
        Ok(Mounted { stripe, card })
    }

    /// Awaits one of Stripe.js's confirmations; its error message if any.
    async fn confirmed(promise: JsValue) -> Result<JsValue, String> {
        let promise: Promise = promise.dyn_into().map_err(|_| "not a promise")?;
        let result = JsFuture::from(promise)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let error = get(&result, "error")?;
        if error.is_null() || error.is_undefined() {
            return Ok(result);
        }
        Err(get(&error, "message")?
            .as_string()
            .unwrap_or_else(|| "The payment provider refused this payment method.".into()))
    }

    pub async fn confirm_card_setup(m: &Mounted, client_secret: &str) -> Result<(), String> {
        let card = m.card.clone().ok_or("no card element")?;
        let data = object(&[("payment_method", object(&[("card", card)]))]);
        let promise = call(
            &m.stripe,
            "confirmCardSetup",
            &[JsValue::from_str(client_secret), data],
        )?;
        confirmed(promise).await.map(|_| ())
    }

    pub async fn confirm_sepa_setup(
        m: &Mounted,
        client_secret: &str,
        (iban, name, email): (&str, &str, &str),
    ) -> Result<(), String> {
        let method = object(&[
            ("sepa_debit", object(&[("iban", JsValue::from_str(iban))])),
            (
                "billing_details",
                object(&[
                    ("name", JsValue::from_str(name)),
                    ("email", JsValue::from_str(email)),
                ]),
            ),
        ]);
        let data = object(&[("payment_method", method)]);
        let promise = call(
            &m.stripe,
            "confirmSepaDebitSetup",
            &[JsValue::from_str(client_secret), data],
        )?;
        confirmed(promise).await.map(|_| ())
    }

    /// 3-D Secure for a payment the server was told needs it.
    pub async fn confirm_card_payment(
        publishable_key: &str,
        client_secret: &str,
    ) -> Result<(), String> {
        let stripe = instance(publishable_key)?;
        let promise = call(
            &stripe,
            "confirmCardPayment",
            &[JsValue::from_str(client_secret)],
        )?;
        confirmed(promise).await.map(|_| ())
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(not(feature = "hydrate"))]
mod server_side {
    use super::Mounted;
    const NOT_HERE: &str = "Stripe.js runs in the browser only.";
    pub async fn load(_url: &str) -> Result<(), String> {
        Err(NOT_HERE.into())
    }
    pub fn mount(_key: &str, _selector: Option<&str>) -> Result<Mounted, String> {
        Err(NOT_HERE.into())
    }
    pub async fn confirm_card_setup(_m: &Mounted, _secret: &str) -> Result<(), String> {
        Err(NOT_HERE.into())
    }
    pub async fn confirm_sepa_setup(
        _m: &Mounted,
        _secret: &str,
        _details: (&str, &str, &str),
    ) -> Result<(), String> {
        Err(NOT_HERE.into())
    }
    pub async fn confirm_card_payment(_key: &str, _secret: &str) -> Result<(), String> {
        Err(NOT_HERE.into())
    }
}

#[cfg(not(feature = "hydrate"))]
pub use server_side::*;
