"""Serialisers: a stored record to the API's JSON (camelCase, ISO 8601 UTC timestamps)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso
from chalicelib.domain.outcomes import outcome

if TYPE_CHECKING:
    from chalicelib.domain.records import (
        Call,
        Callback,
        Campaign,
        CampaignLead,
        DialerSession,
        Lead,
        Message,
        Suppression,
        TeamMember,
    )


def team_member_out(m: TeamMember) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "phone": m.phone,
        "email": m.email,
        "role": m.role,
        "active": m.active,
        "createdAt": iso(m.created_at),
        "updatedAt": iso(m.updated_at),
        "version": m.version,
    }


def lead_out(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "name": lead.name,
        "phone": lead.phone,
        "email": lead.email,
        "company": lead.company,
        "notes": lead.notes,
        "status": lead.status,
        "assignedToId": lead.assigned_to_id,
        "source": lead.source,
        "smsOptOut": bool(lead.sms_opt_out),
        "doNotCall": bool(lead.do_not_call),
        "timezone": lead.timezone,
        "state": lead.state,
        "lastContactedAt": iso(lead.last_contacted_at),
        "archived": lead.archived_at is not None,
        "archivedAt": iso(lead.archived_at),
        "campaignId": lead.campaign_id,
        "createdAt": iso(lead.created_at),
        "updatedAt": iso(lead.updated_at),
        "version": lead.version,
    }


def call_out(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "leadId": c.lead_id,
        "leadName": c.lead_name,
        "teamMemberId": c.team_member_id,
        "callerId": c.caller_id,
        "status": c.status,
        "leadLegStatus": c.lead_leg_status,
        "twilioSid": c.twilio_sid,
        "durationSeconds": int(c.duration_seconds) if c.duration_seconds is not None else None,
        "talkSeconds": int(c.talk_seconds) if c.talk_seconds is not None else None,
        "answeredBy": c.answered_by,
        "answeredAt": iso(c.answered_at),
        "endedAt": iso(c.ended_at),
        "errorCode": c.error_code,
        "errorMessage": c.error_message,
        "disposition": c.disposition,
        "outcome": outcome(c),
        "notes": c.notes,
        "campaignId": c.campaign_id,
        "sessionId": c.session_id,
        "abandoned": bool(c.abandoned),
        "voicemailLeft": bool(c.voicemail_left),
        "direction": c.direction,
        # the audio, streamed by GET /calls/{id}/recording (a path on the API)
        "voicemail": _audio(c, "voicemail"),
        "recording": _audio(c, "call"),
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
    }


def _audio(c: Call, kind: str) -> dict[str, Any] | None:
    if c.recording_kind != kind or not c.recording_key:
        return None
    url = f"/calls/{c.id}/recording"
    seconds = int(c.recording_seconds or 0)
    key = "recordingUrl" if kind == "voicemail" else "url"
    return {"durationSeconds": seconds, key: url}


def message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "leadId": m.lead_id,
        "teamMemberId": m.team_member_id,
        "direction": m.direction,
        "from": m.from_number,
        "to": m.to_number,
        "body": m.body,
        "status": m.status,
        "twilioSid": m.twilio_sid,
        "errorCode": m.error_code,
        "errorMessage": m.error_message,
        "createdAt": iso(m.created_at),
        "updatedAt": iso(m.updated_at),
    }


def _by(ref: str | None, name: str | None) -> dict[str, Any] | None:
    if not ref:
        return None
    kind, _, ident = ref.partition(":")
    return {"type": kind, "id": ident, "name": name}


def suppression_out(s: Suppression) -> dict[str, Any]:
    """API.md's shape (`phone, channels, reason, source, createdAt, createdBy`: of the channel
    suppressed last), and each channel's own record under `voice` and `sms`."""
    from chalicelib.domain.suppressions import channels_of

    channels = channels_of(s)
    per: dict[str, Any] = {}
    for channel in ("voice", "sms"):
        if channel not in channels:
            per[channel] = None
            continue
        per[channel] = {
            "reason": getattr(s, f"{channel}_reason"),
            "source": getattr(s, f"{channel}_source"),
            "createdAt": iso(getattr(s, f"{channel}_at")),
            "createdBy": _by(getattr(s, f"{channel}_by"), getattr(s, f"{channel}_by_name")),
        }
    last = max((per[c] for c in channels), key=lambda p: p["createdAt"] or "", default=None) or {
        "reason": None,
        "source": None,
        "createdAt": None,
        "createdBy": None,
    }
    return {
        "phone": s.phone,
        "channels": channels,
        "reason": last["reason"],
        "source": last["source"],
        "createdAt": last["createdAt"],
        "createdBy": last["createdBy"],
        "updatedAt": iso(s.updated_at),
        **per,
    }


def dialer_session_out(s: DialerSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "campaignId": s.campaign_id,
        "teamMemberId": s.team_member_id,
        "status": s.status,
        "statusSince": iso(s.status_since),
        "currentLeadId": s.current_lead_id,
        "currentCallId": s.current_call_id,
        "note": s.note,
        "stats": {
            "dialed": s.dialed,
            "humans": s.humans,
            "machines": s.machines,
            "voicemailsDropped": s.voicemails_dropped,
            "noAnswer": s.no_answer,
            "abandoned": s.abandoned,
            "talkSeconds": s.talk_seconds,
        },
        "startedAt": iso(s.started_at),
        "endedAt": iso(s.ended_at),
        "endReason": s.end_reason,
        "updatedAt": iso(s.updated_at),
        "version": s.version,
    }


def campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "callerId": c.caller_id,
        "script": c.script,
        "memberIds": list(c.member_ids or []),
        "maxAttempts": int(c.max_attempts),
        "retryAfterMinutes": int(c.retry_after_minutes),
        "amd": c.amd,
        "voicemailMessage": c.voicemail_message,
        "autoAdvanceSeconds": int(c.auto_advance_seconds),
        "record": bool(c.record),
        "counts": {
            "leads": int(c.count_ready + c.count_scheduled + c.count_done),
            "ready": int(c.count_ready),
            "scheduled": int(c.count_scheduled),
            "done": int(c.count_done),
        },
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
        "createdBy": c.created_by,
        "version": c.version,
    }


def campaign_lead_out(e: CampaignLead, lead: Lead | None) -> dict[str, Any]:
    reserved = e.reserved_by is not None
    return {
        "leadId": e.lead_id,
        "campaignId": e.campaign_id,
        "name": lead.name if lead is not None else None,
        "phone": lead.phone if lead is not None else None,
        "company": lead.company if lead is not None else None,
        "status": lead.status if lead is not None else None,
        "state": e.state,
        "attempts": int(e.attempts),
        "lastAttemptAt": e.last_attempt_at,
        "nextAttemptAt": None if e.state == "done" else e.next_attempt_at,
        "lastOutcome": e.last_outcome,
        "doneReason": e.done_reason,
        "reservedBy": e.reserved_by if reserved else None,
        "reservedUntil": e.reserved_until if reserved else None,
        "addedAt": iso(e.added_at),
    }


def callback_out(c: Callback) -> dict[str, Any]:
    return {
        "id": c.id,
        "leadId": c.lead_id,
        "leadName": c.lead_name,
        "teamMemberId": c.team_member_id,
        "at": c.at,
        "note": c.note,
        "createdAt": iso(c.created_at),
        "createdBy": c.created_by,
        "done": c.done_at is not None,
    }
