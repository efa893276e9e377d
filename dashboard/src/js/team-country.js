// The team's country for reading phone numbers (format.js `phone`): COLDCALL_CONFIG's
// `phoneCountry` (a calling code, e.g. "1" or "44") when set, else the calling code of the
// account's first Twilio number (GET /twilio/phone-numbers, asked once per sign-in).
import * as api from "./api.js";
import { callingCodeOf, setTeamCallingCode } from "./format.js";

let asked = null;

/** Resolves once the calling code is known (or could not be: numbers stay E.164). */
export function ensureTeamCountry() {
  const configured = globalThis.COLDCALL_CONFIG?.phoneCountry;
  if (configured) {
    setTeamCallingCode(configured);
    return Promise.resolve();
  }
  if (asked) return asked;
  if (!api.signedIn()) return Promise.resolve();
  asked = api
    .phoneNumbers()
    .then((numbers) => setTeamCallingCode(callingCodeOf(numbers[0]?.phoneNumber)))
    .catch(() => {
      asked = null; // ask again on the next page
    });
  return asked;
}

/** After signing out: the next member's account may differ. */
export function forgetTeamCountry() {
  asked = null;
}
