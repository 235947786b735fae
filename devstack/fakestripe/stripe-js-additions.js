// Grace's Towel's additions to localstripe's fake Stripe.js (served after it, in the same
// script, so LOCALSTRIPE_BASE_API, Element and openModal are in scope). See
// devstack/fakestripe/payments.py.
//
// stripe.confirmCardPayment(clientSecret, data) as Stripe.js does it: confirm the PaymentIntent
// with the card the customer typed into the card Element (or an existing PaymentMethod ID),
// using the publishable key and the client secret; then, for a card that asks for 3-D Secure,
// localstripe's confirm/cancel dialog. Resolves to {paymentIntent} or {error}; a declined card
// gives {error: {type: "card_error", code: "card_declined", message, payment_intent}} and the
// same PaymentIntent can be confirmed again with another card.
(function () {
  const localstripeStripe = Stripe;

  async function post(path, body) {
    // A JSON string body is a "simple" cross-origin request: no CORS preflight needed.
    const response = await fetch(`${LOCALSTRIPE_BASE_API}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (response.status !== 200 || json.error) {
      return {error: json.error || {type: 'api_error', message: `HTTP ${response.status}`}};
    }
    return {paymentIntent: json};
  }

  function paymentMethodFields(method) {
    if (typeof method === 'string') {
      return {payment_method: method};
    }
    const card = method.card instanceof Element ? method.card.value : {card: method.card};
    if (!card || !card.card || !card.card.number) {
      return {error: {type: 'validation_error', code: 'incomplete_number',
                      message: 'Your card number is incomplete.'}};
    }
    const billing = method.billing_details || {};
    const address = {...(billing.address || {})};
    if (card.postal_code && !address.postal_code) {
      address.postal_code = card.postal_code;
    }
    return {payment_method_data: {type: 'card', card: card.card,
                                  billing_details: {...billing, address}}};
  }

  Stripe = (apiKey) => {
    const stripe = localstripeStripe(apiKey);
    stripe.confirmCardPayment = async (clientSecret, data) => {
      console.log('localstripe: Stripe().confirmCardPayment()');
      try {
        const pi = clientSecret.match(/^(pi_\w+)_secret_/)[1];
        const fields = data && data.payment_method ? paymentMethodFields(data.payment_method) : {};
        if (fields.error) {
          return {error: fields.error};
        }
        let result = await post(`/v1/payment_intents/${pi}/confirm`,
                                {key: apiKey, client_secret: clientSecret, ...fields});
        if (result.error || result.paymentIntent.status !== 'requires_action') {
          return result;
        }
        const success = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                        'Complete authentication', 'Fail authentication');
        result = await post(`/v1/payment_intents/${pi}/_authenticate?success=${success}`,
                            {key: apiKey, client_secret: clientSecret});
        if (!result.error && result.paymentIntent.status === 'requires_payment_method') {
          const error = result.paymentIntent.last_payment_error || {};
          return {error: {type: 'card_error', code: error.code, message: error.message,
                          payment_intent: result.paymentIntent}};
        }
        return result;
      } catch (err) {
        return {error: {type: 'api_connection_error', message: String(err)}};
      }
    };
    return stripe;
  };
})();
