// The public store API (same origin: the API serves this shop at /shop/). Every failure becomes
// an ApiError whose message is words a shopper can read, never a swallowed exception.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const UNREACHABLE =
  "The shop's server could not be reached. Check your connection and try again.";

async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network_error", UNREACHABLE);
  }
  const payload = await response.json().catch(() => null);
  if (response.ok && payload !== null) return payload;
  // The API's one error shape: {"error": {"code", "message", "details"?}}.
  const error = payload?.error;
  throw new ApiError(
    response.status,
    error?.code ?? "http_error",
    error?.message ?? `The shop's server answered ${response.status} ${response.statusText}.`,
    error?.details,
  );
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  delete: (path, options) => request("DELETE", path, options),
};

/** A sentence for any error: the API's own message, plus which fields were refused and why. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return error?.message || "Something went wrong in this page.";
  if (!Array.isArray(error.details) || error.details.length === 0) return error.message;
  const reasons = error.details.map((detail) => {
    const where = (detail.loc ?? []).filter((part) => part !== "body").join(" › ");
    return where ? `${where.replaceAll("_", " ")}: ${detail.message}` : detail.message;
  });
  return `${error.message}: ${reasons.join("; ")}.`;
}
