"""The Twilio simulator: a local stand-in for the parts of Twilio's REST API the app uses, and for
the webhooks Twilio sends back. Never deployed.

Run it alone with ``python -m localdev.twilio_sim --port 8900 --app-base http://127.0.0.1:8000``
(``make dev`` does this when no TWILIO_* credentials are set), or from Python and tests with
``start_simulator(port=0, app_base=..., speed=...)``, which returns a running `Simulator`.

Why a simulator rather than mocks: the app reaches it with the real ``twilio`` SDK (through
``chalicelib.telephony.http.RebasingHttpClient``) and receives real, signed, form-encoded
webhooks over HTTP, so the wire formats, signatures, status orders and error codes are exercised
exactly as in production.

Settings (argument, else environment, else default):
  ``--port`` / SIMULATOR_PORT (8900), ``--auth-token`` / SIMULATOR_AUTH_TOKEN
  (``simulated-auth-token``), ``--app-base`` / SIM_APP_BASE (``http://127.0.0.1:8000``),
  ``--speed`` / SIM_SPEED (10: every simulated duration is divided by it), ``--webhook-timeout`` /
  SIM_WEBHOOK_TIMEOUT (15 s, Twilio's own limit). The account SID is always
  ``AC00000000000000000000000000000000``; it owns ``+15005550006`` and ``+15005550007``.

REST (Basic auth, account SID : auth token; errors in Twilio's JSON shape, so the SDK raises
``TwilioRestException`` with Twilio's ``code`` and ``status``), under
``/2010-04-01/Accounts/{AccountSid}/``: ``IncomingPhoneNumbers.json`` (list; fetch and update
``/{PN}.json``), ``Calls.json`` (create, list; fetch and ``Status=canceled|completed`` on
``/{CA}.json``; ``Record=true`` records it), ``Recordings.json`` (below), ``Messages.json``
(create, list; fetch ``/{SM}.json``, an unknown SID is Twilio's 404 with code 20404), and the
account itself. The Messages list filters like Twilio's:
``To``, ``From``, ``DateSent`` (a GMT day; ``DateSent>=``/``DateSent<=`` on or after / on or
before it; a timestamp, as the SDK sends a datetime, compares to the second), newest sent first,
inbound texts (``direction`` ``inbound``, ``date_sent`` when posted to the app) included; lists
are paged with ``PageSize`` and ``next_page_uri``.

The call walk (durations in simulated seconds, divided by SIM_SPEED): the member leg (the REST
call's ``To``) is queued, initiated, rings 3 s and answers; its ``Url`` is fetched and the TwiML
is executed: ``<Say>`` (0.4 s a word), ``<Play>``, ``<Pause>``, ``<Gather>``, ``<Dial>``
(``<Number>`` or a bare number), ``<Redirect>``, ``<Hangup>``/``<Reject>``; anything else is
skipped and noted. A ``<Dial>`` starts the lead leg, a child call with its own ``CA`` SID whose
outcome is the lead number's last digit: ``1`` busy (rings 2 s), ``2`` no-answer (rings the
Dial's ``timeout``, default 30 s), ``3`` failed (never rings), otherwise it rings 4 s, answers
and talks 30 s. Then the Dial ``action`` is posted (``DialCallStatus``, ``DialCallSid``,
``DialCallDuration``) and its TwiML followed. When a document runs out, the call hangs up. The
reported durations (``CallDuration``, ``DialCallDuration``, ``duration``) are simulated seconds,
so a lead leg that talked always reports 30 whatever SIM_SPEED is; timestamps are wall-clock.
Status callbacks go to ``StatusCallback`` (member leg) and ``<Number statusCallback>`` (lead leg)
for the requested events (``completed`` always), with ``SequenceNumber``, ``Timestamp``,
``CallbackSource``, ``ParentCallSid`` on the child, ``CallDuration`` when final. Each leg's status
callbacks are delivered in order on a queue of their own, so a slow status webhook never holds
the call up, and the two legs' callbacks, like Twilio's, may interleave; TwiML fetches (the
connect URL, the Gather and Dial actions, redirects) are made by the call itself, which waits for
the answer as Twilio does.

The ``9`` case, "the member does not press 1", is decided by asking the Gather's action what
pressing 1 would do; `localdev.twilio_sim.twiml` explains why and what the app sees.

SMS: a send is validated like Twilio (21211, 21212, 21602, 21603, 21604, 21606, 21610, 21617,
21701), answers 201 ``queued`` (``accepted`` with a Messaging Service, whose ``from`` is filled in
once a number of the service, here the account's first, is picked), then posts ``sent`` and
``delivered`` to its ``StatusCallback``; to a number ending in 3 ``sent`` is followed by
``undelivered`` with ``ErrorCode=30003`` (a carrier failure, as Twilio reports it). Status
callbacks carry ``ErrorCode`` only, never ``ErrorMessage``, as Twilio's do. Opt-outs are kept
per recipient and sender number as Twilio's default handling does (STOP, STOPALL, UNSUBSCRIBE,
CANCEL, END, QUIT; START, YES, UNSTOP re-subscribe; the
whole message, any case, surrounding spaces and punctuation ignored); a send through a Messaging
Service is refused when the recipient opted out of any of the account's numbers (its pool). Like
Twilio, the simulator answers STOP, START and HELP itself (recorded as ``outbound-reply``
messages, never posted to the app).

Webhooks are delivered as Twilio does: form-encoded POST (or GET with the parameters in the query
when asked), signed with ``X-Twilio-Signature`` over the exact URL, ``I-Twilio-Idempotency-Token``,
User-Agent ``TwilioProxy/1.1``; the whole delivery must answer within the webhook timeout; a
connection failure (nothing reached the app) is retried once. Every delivery is logged, with its
kind: ``voice-url``, ``gather``, ``dial-action``, ``redirect``, ``call-status:<event>``,
``sms-status:<status>``, ``sms-incoming``, ``call-amd``, ``conference-status:<event>``,
``voice-incoming``, ``whisper``, ``whisper-gather``, ``record-action``,
``recording-status:<event>``.

Developer endpoints (no auth): ``POST /simulator/inbound-sms`` ``{"from","to","body"}``;
``POST /simulator/inbound-call`` (below); ``GET /simulator/recordings``; ``GET
/simulator/calls``, ``/simulator/messages``, ``/simulator/webhooks`` (``?sid=`` filters),
``/simulator/requests`` (the REST requests seen), ``/simulator/health``; ``POST
/simulator/reset``; ``GET|POST|DELETE /simulator/faults``. A fault is ``{"op": OP, "mode": MODE,
"count": N}``: the next N requests of OP (``calls.create``, ``calls.fetch``, ``calls.update``,
``calls.list``, ``messages.create``, ``messages.fetch``, ``messages.list``, ``numbers.list``,
``numbers.fetch``, ``numbers.update``, ``accounts.fetch``, ``conferences.list``,
``conferences.fetch``, ``conferences.update``, ``participants.create``, ``participants.list``,
``participants.fetch``, ``participants.update``, ``participants.delete``,
``recordings.list``, ``recordings.list_call``, ``recordings.fetch``, ``recordings.delete``,
``recordings.media``) fail with MODE:
``500`` (Twilio's 20500, nothing done), ``500-after-create`` (the request IS carried out, a call
is placed and walks, then 500: Twilio's warning that a 5xx on create may have placed the call),
``429`` (20429 with ``Retry-After``, ``retryAfter`` seconds, default 1; never carried out),
``21211`` (400 invalid To), ``timeout`` (no answer: the connection is held ``delaySeconds``,
default 30, then closed; nothing done) and ``timeout-after-create`` (done, then held and
closed). ``{"op": "webhook", "mode": "drop", "count": N}``: the next N webhooks of any kind are
never sent, as when Twilio gave up on them (it never retries a webhook that answered 5xx or
timed out); they are logged with ``dropped`` true. ``{"webhookDelaySeconds": S}`` makes every
webhook reach the app S real seconds late (not scaled by SIM_SPEED). The delay counts against
the webhook timeout, as network time would: once it is used up the request is still sent, since
the bytes of a slow delivery do arrive, but the simulator no longer waits for the answer; it
logs a timeout (11205) and, for a TwiML fetch, ends the call with an application error, as
Twilio does.

The power dialer's side (`phone`, `conference`, `conference_api`): a REST call with
``MachineDetection`` or one created through the Participants API rings a *lead* (``1`` busy,
``2`` no-answer, ``3`` failed, ``4`` an answering machine, anything else, ``9`` included, a
person who talks 30 s after answering, then hangs up); any other REST call rings a *member*
(``1`` busy, ``2`` no-answer, else answers and stays on until the app or its conference ends
the call). Detection (``MachineDetection`` ``Enable``/``DetectMessageEnd``,
``MachineDetectionTimeout``; synchronous: ``AnsweredBy`` on the Url's request; ``AsyncAmd``:
``AnsweredBy`` and ``MachineDetectionDuration`` posted to ``AsyncAmdStatusCallback`` while the
TwiML runs; a participant's goes to its ``AmdStatusCallback``) and ``AnsweredBy`` on every later
webhook. A machine beeps after a 6 s greeting; what is said or played to it afterwards is the
voicemail left (``simulator.voicemail`` on the call record). ``Conferences.json`` (list by
``FriendlyName``/``Status``, fetch, ``Status=completed``) and ``Conferences/{CF or name}/
Participants.json`` (create, list, fetch, update ``Muted``/``Hold``, delete), ``<Dial>
<Conference>`` with its attributes, conference status callbacks; ``Calls`` update with ``Url``
or ``Twiml`` redirects a live call (out of its conference, if in one). The modules' docstrings
give the rules. Developer endpoints: ``GET /simulator/conferences``, ``POST
/simulator/calls/{CA}/hangup`` (the phone hangs up, not the app).

Inbound calls and recordings (`inbound`, `callers`, `ringing`, `recordings`): ``POST
/simulator/inbound-call`` ``{"from", "to", "behaviour"?, "messageSeconds"?, "hangupAfter"?,
"digits"?}`` (``to`` one of the account's numbers, else 400) places an inbound call
(``direction`` ``inbound``) that requests the number's ``VoiceUrl`` (default
``<SIM_APP_BASE>/twilio/voice/incoming``) with Twilio's inbound parameters (``CallStatus``
``ringing``, ``Caller``, ``Called``, ``FromCountry``, ...), answers ``{"sid", ...}`` at once and
runs the TwiML; the number's ``StatusCallback`` gets the final status. The caller ``wait``s
(silent; hangs up after 600 s at most), leaves a ``message`` of ``messageSeconds`` (default 5) at
the first ``<Record>`` and hangs up, or hangs up after ``hangupAfter`` seconds; ``digits`` are
keyed at the first ``<Gather>``. A ``<Dial>`` on an inbound call, or with several ``<Number>``s
(up to 10), or with a whisper (``<Number url>``), rings every number at once: on an inbound call
they are members' phones (``1`` busy, ``2`` no answer, else answers and, at the whisper's
``<Gather>``, presses 1 unless the number ends in ``9``); the first leg whose whisper runs out
without ``<Hangup>`` is bridged, the others hang up; the bridged member talks 30 s. ``<Record>``
(``action``, ``method``, ``timeout``, ``maxLength``, ``playBeep``, ``trim``,
``recordingStatusCallback`` with its ``Method`` and ``Event``; ``finishOnKey`` accepted, never
used) posts ``RecordingUrl``, ``RecordingSid``, ``RecordingDuration`` (and ``Digits=hangup`` when
the caller hung up; that answer's TwiML is ignored) to its action; an empty recording is
``absent``, requests no action and the call goes on. ``<Dial record="record-from-answer[-dual]|
record-from-ringing[-dual]">``, ``Calls`` create with ``Record=true`` (``RecordingChannels``,
``RecordingStatusCallback``, ``...Method``, ``...Event``) and ``<Conference
record="record-from-start">`` record too. Recordings: ``Recordings.json`` (list; ``CallSid``,
``ConferenceSid``, ``DateCreated``), ``Calls/{CA}/Recordings.json``, ``Recordings/{RE}.json``
(fetch; ``DELETE`` 204, then 404), and the media ``Recordings/{RE}`` / ``.wav`` (a real 8 kHz
16-bit WAV of the recording's duration, one or two channels, ``RequestedChannels=1`` downmixes)
behind Basic auth; ``.mp3`` answers 415. ``RecordingUrl`` is the media URL without extension, on
the simulator's own base. Developer endpoint: ``GET /simulator/recordings``.

Not simulated: ``<Client>``/``<Sip>``/``<Queue>`` dialing, media streams, transcription, MP3
recordings, pausing or stopping a recording through the REST API (``Calls/{CA}/Recordings``
create/update), ``<Start><Recording>``, a conference's ``waitUrl`` (not fetched), beeps and
announcements (accepted, not heard), ``FallbackUrl``, redirecting a ``<Dial>`` child leg,
redirects in webhook answers (not followed), the caller pressing ``finishOnKey`` during
``<Record>``, ``<Reject>`` on an inbound call (it hangs up like ``<Hangup>``, after answering).

The modules, by responsibility: ``rules`` (Twilio's rules and constants, pure), ``config``
(settings), ``resources`` (REST resources in Twilio's shape, paging, error bodies), ``state``
(the registry of numbers, calls, messages, opt-outs), ``clock`` (simulated time), ``legs`` (call
statuses and status callbacks, the lead's phone), ``twiml`` (the TwiML walk), ``voice`` (call
create, walk and hang-up), ``sms`` (messages, inbound texts, opt-outs), ``webhooks`` (signed
delivery, timeouts, the log), ``faults`` (fault injection), ``phone`` (the far end of REST
calls: whose phone, detection, the machine), ``conference`` (rooms, participants, conference
callbacks), ``conference_api`` (their REST handlers), ``recordings`` (the Recording resource,
its callbacks, the WAV, its REST handlers), ``inbound`` (inbound calls), ``callers`` (the
caller's behaviour, ``<Record>``, the caller's ``<Gather>``, the walker's hook), ``ringing``
(Dials ringing several numbers, whispers, recorded Dials), ``rest`` (auth, routing, handlers),
``engine`` (the collaborators wired together), ``server`` (HTTP, `Simulator`), ``cli`` and
``__main__`` (the command).
"""

from localdev.twilio_sim.cli import main
from localdev.twilio_sim.config import (
    DEFAULT_APP_BASE,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_PORT,
    DEFAULT_SPEED,
    DEFAULT_WEBHOOK_TIMEOUT,
    SimConfig,
)
from localdev.twilio_sim.engine import Engine
from localdev.twilio_sim.faults import FAULT_MODES, FAULT_OPS, Fault
from localdev.twilio_sim.resources import (
    Activity,
    Call,
    Message,
    PhoneNumber,
    TwilioError,
    error_body,
)
from localdev.twilio_sim.rules import (
    ACCOUNT_PATH,
    ACCOUNT_SID,
    API_VERSION,
    APP_ERROR_S,
    AUTO_REPLIES,
    BUSY_S,
    CALL_EVENTS,
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_DIAL_TIMEOUT,
    DEFAULT_GATHER_TIMEOUT,
    DIAL_S,
    FAILED_S,
    FINAL_CALL,
    HELP_WORDS,
    LEAD_RING_S,
    MAX_DOCUMENTS,
    MEMBER_RING_S,
    NUMBERS,
    PRESS_S,
    QUEUE_S,
    SAY_WORD_S,
    SMS_DELIVER_S,
    SMS_SEND_S,
    START_WORDS,
    STOP_WORDS,
    TALK_S,
    LeadOutcome,
    amd_result,
    amd_verdict,
    answered_by,
    conference_events,
    is_e164,
    is_lead_call,
    member_outcome_for,
    national,
    new_sid,
    number_sid,
    opt_keyword,
    outcome_for,
    rfc2822,
    sms_segments,
)
from localdev.twilio_sim.rules import callback_events as _events
from localdev.twilio_sim.rules import dial_number as _dial_number
from localdev.twilio_sim.rules import parse_twiml as _parse_twiml
from localdev.twilio_sim.server import Simulator, start_simulator
from localdev.twilio_sim.webhooks import USER_AGENT, Delivery

# The names of the single-module simulator, so its importers and tests need no change (the
# three private ones are the unit tests' window on the TwiML helpers).
__all__ = [
    "ACCOUNT_PATH",
    "ACCOUNT_SID",
    "API_VERSION",
    "APP_ERROR_S",
    "AUTO_REPLIES",
    "BUSY_S",
    "CALL_EVENTS",
    "DEFAULT_APP_BASE",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_DIAL_TIMEOUT",
    "DEFAULT_GATHER_TIMEOUT",
    "DEFAULT_PORT",
    "DEFAULT_SPEED",
    "DEFAULT_WEBHOOK_TIMEOUT",
    "DIAL_S",
    "FAILED_S",
    "FAULT_MODES",
    "FAULT_OPS",
    "FINAL_CALL",
    "HELP_WORDS",
    "LEAD_RING_S",
    "MAX_DOCUMENTS",
    "MEMBER_RING_S",
    "NUMBERS",
    "PRESS_S",
    "QUEUE_S",
    "SAY_WORD_S",
    "SMS_DELIVER_S",
    "SMS_SEND_S",
    "START_WORDS",
    "STOP_WORDS",
    "TALK_S",
    "USER_AGENT",
    "Activity",
    "Call",
    "Delivery",
    "Engine",
    "Fault",
    "LeadOutcome",
    "Message",
    "PhoneNumber",
    "SimConfig",
    "Simulator",
    "TwilioError",
    "_dial_number",
    "_events",
    "_parse_twiml",
    "amd_result",
    "amd_verdict",
    "answered_by",
    "conference_events",
    "error_body",
    "is_e164",
    "is_lead_call",
    "main",
    "member_outcome_for",
    "national",
    "new_sid",
    "number_sid",
    "opt_keyword",
    "outcome_for",
    "rfc2822",
    "sms_segments",
    "start_simulator",
]
