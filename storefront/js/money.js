// Amounts arrive as integers of the currency's minor unit. The number of decimals comes from
// the server (GET /store/config, domain.money: Stripe's table), never from a table here, and
// the browser only formats: it never adds, multiplies or rounds money.

/** "1999", 2 -> "19.99"; "3200", 0 -> "3200": exact, by moving the decimal point in the digits. */
export function majorUnits(amount, exponent) {
  if (!Number.isSafeInteger(amount)) throw new TypeError(`not a minor-unit amount: ${amount}`);
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** A formatter for the store's currencies: format(1999, "eur") -> "€19.99", format(3200, "jpy") -> "¥3,200". */
export function moneyFormatter(currencies, locale = undefined) {
  const exponents = new Map(currencies.map((currency) => [currency.currency_code, currency.exponent]));
  const formats = new Map();
  return function formatMoney(amount, currencyCode) {
    const code = currencyCode.toLowerCase();
    const exponent = exponents.get(code);
    if (exponent === undefined) throw new Error(`The shop does not know the currency ${code.toUpperCase()}.`);
    if (!formats.has(code)) {
      formats.set(
        code,
        new Intl.NumberFormat(locale, {
          style: "currency",
          currency: code.toUpperCase(),
          minimumFractionDigits: exponent,
          maximumFractionDigits: exponent,
        }),
      );
    }
    // A decimal string is formatted exactly (Intl.NumberFormat v3), with no float in between.
    return formats.get(code).format(majorUnits(amount, exponent));
  };
}
