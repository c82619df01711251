"""clinic-booking: book a given slot in a doctor's week calendar (a later week: page through it), then confirm.

The calendar shows one doctor's week (Monday to Friday, 09:00 to 16:00 without lunch), some slots taken. The
target slot is free and one to three weeks ahead. Milestones: doctor_chosen, target_week_shown, slot_opened,
booked. Success: one booking with the right doctor, slot, patient name and reason.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from hiper_gym.web.checks import Context, norm
from hiper_gym.web.layout import esc, form, messages, page, select_input, text_input
from hiper_gym.web.site import Request, Response, Site, redirect, route, url
from hiper_gym.web.task import WebTask
from hiper_gym.web.tasks.expert_steps import choose, click, first, type_into

SITE_NAME = "Riverside Clinic"
FIRST_MONDAY = dt.date(2026, 3, 2)
WEEKS = 4
TIMES = ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"]
DOCTORS = ["Dr. Amara Osei", "Dr. Ben Hartley", "Dr. Carmen Ruiz"]
REASONS = ["Check-up", "Follow-up", "Vaccination", "Other"]
PATIENTS = ["Lucas Meyer", "Aisha Khan", "Mateo Garcia", "Ingrid Berg", "Samuel Osei", "Yuki Tanaka"]
CHOOSE = "Choose a doctor"


def slot_label(slot: str) -> str:
    """'Tuesday 3 March at 10:00' for '2026-03-03T10:00'."""
    day, time = slot.split("T")
    date = dt.date.fromisoformat(day)
    return f"{date.strftime('%A')} {date.day} {date.strftime('%B')} at {time}"


def slots(week: int) -> list[str]:
    """Every slot of a week, day by day."""
    monday = FIRST_MONDAY + dt.timedelta(weeks=week)
    return [f"{monday + dt.timedelta(days=d)}T{t}" for d in range(5) for t in TIMES]


def draw(rng: random.Random) -> dict[str, Any]:
    """Taken slots per doctor, and a free target slot one to three weeks ahead."""
    taken = {doc: sorted(s for w in range(WEEKS) for s in slots(w) if rng.random() < 0.4) for doc in DOCTORS}
    doctor, week = rng.choice(DOCTORS), rng.randint(1, WEEKS - 1)
    slot = rng.choice([s for s in slots(week) if s not in taken[doctor]])
    return dict(
        taken=taken, doctor=doctor, week=week, slot=slot, patient=rng.choice(PATIENTS), reason=rng.choice(REASONS)
    )


def _week_of(slot: str) -> int:
    return (dt.date.fromisoformat(slot.split("T")[0]) - FIRST_MONDAY).days // 7


class ClinicSite(Site):
    """The clinic's booking site of one episode; state: calendar views, opened slots, bookings."""

    def __init__(self, params: dict[str, Any]):
        super().__init__(params)
        self.taken = {doc: set(s) for doc, s in params["taken"].items()}
        self.state.update(views=[], opened=[], bookings=[])

    def _page(self, title: str, body: str) -> Response:
        nav = [("Home", "/"), ("Appointments", "/calendar")]
        return Response(page(title, body, SITE_NAME, nav, "#1d6f8a"))

    @route("GET", "/")
    def home(self, request: Request) -> Response:
        body = (
            "<h1>Welcome to Riverside Clinic</h1><p>General practice, vaccinations and follow-up visits. "
            "Open Monday to Friday, 09:00 to 17:00.</p>"
            '<p><a class="button" href="/calendar">Book an appointment</a></p>'
        )
        return self._page("Riverside Clinic", body)

    @route("GET", "/calendar")
    def calendar(self, request: Request) -> Response:
        doctor = request.query.get("doctor", "")
        week = request.query.get("week", "0")
        week_n = min(max(int(week), 0), WEEKS - 1) if week.isdigit() else 0
        picker = form(
            "/calendar",
            '<div class="row"><div>'
            + select_input("doctor", "Doctor", [CHOOSE, *DOCTORS], doctor or CHOOSE)
            + '</div><div><button type="submit">Show calendar</button></div></div>',
            "get",
        )
        body = "<h1>Book an appointment</h1>" + picker
        if doctor not in DOCTORS:
            return self._page("Appointments", body + "<p>Choose a doctor to see the free times.</p>")
        self.state["views"].append((doctor, week_n))
        monday = FIRST_MONDAY + dt.timedelta(weeks=week_n)
        nav = []
        if week_n > 0:
            nav.append(f'<a href="{esc(url("/calendar", doctor=doctor, week=week_n - 1))}">&lt; Previous week</a>')
        if week_n < WEEKS - 1:
            nav.append(f'<a href="{esc(url("/calendar", doctor=doctor, week=week_n + 1))}">Next week &gt;</a>')
        body += f"<h2>{esc(doctor)}: week of {monday.day} {monday.strftime('%B %Y')}</h2><p>{' &nbsp; '.join(nav)}</p>"
        days = [monday + dt.timedelta(days=d) for d in range(5)]
        head = "".join(f"<th>{d.strftime('%a')} {d.day} {d.strftime('%b')}</th>" for d in days)
        rows = ""
        for time in TIMES:
            cells = ""
            for d in days:
                slot = f"{d}T{time}"
                if slot in self.taken[doctor]:
                    cells += '<td class="muted">Taken</td>'
                else:
                    href = esc(url("/calendar/confirm", doctor=doctor, slot=slot))
                    cells += f'<td><a href="{href}" aria-label="Book {slot_label(slot)}">Book</a></td>'
            rows += f"<tr><th>{time}</th>{cells}</tr>"
        body += f"<table><tr><th>Time</th>{head}</tr>{rows}</table>"
        return self._page("Appointments", body)

    @route("GET", "/calendar/confirm")
    def confirm_page(self, request: Request) -> Response:
        doctor, slot = request.query.get("doctor", ""), request.query.get("slot", "")
        if doctor not in DOCTORS or slot not in slots(_week_of(slot) if "T" in slot else 0):
            return redirect("/calendar")
        self.state["opened"].append((doctor, slot))
        errors = [e for e in request.query.get("errors", "").split("|") if e]
        back = esc(url("/calendar", doctor=doctor, week=_week_of(slot)))
        inner = (
            f'<input type="hidden" name="doctor" value="{esc(doctor)}"><input type="hidden" name="slot" value="{esc(slot)}">'
            + text_input("patient", "Patient name", request.query.get("patient", ""))
            + select_input("reason", "Reason for visit", REASONS, request.query.get("reason", REASONS[0]))
            + f'<p><button type="submit">Confirm booking</button> <a href="{back}">Back to calendar</a></p>'
        )
        body = f"<h1>Confirm your appointment</h1><p>{esc(slot_label(slot))} with {esc(doctor)}</p>"
        body += messages(errors) + form("/calendar/confirm", inner)
        return self._page("Confirm appointment", body)

    @route("POST", "/calendar/confirm")
    def confirm(self, request: Request) -> Response:
        doctor, slot = request.get("doctor"), request.get("slot")
        patient, reason = request.get("patient").strip(), request.get("reason")
        errors = []
        if doctor not in DOCTORS or slot in self.taken.get(doctor, set()):
            errors.append("Sorry, this time is no longer free. Please choose another.")
        if not patient:
            errors.append("Please enter the patient's name.")
        if errors:
            return redirect(url("/calendar/confirm", doctor=doctor, slot=slot, errors="|".join(errors), reason=reason))
        self.taken[doctor].add(slot)
        self.state["bookings"].append({"doctor": doctor, "slot": slot, "patient": patient, "reason": reason})
        return redirect(f"/booked/{len(self.state['bookings'])}")

    @route("GET", "/booked/<number>")
    def booked(self, request: Request, number: str) -> Response:
        if not number.isdigit() or not 0 < int(number) <= len(self.state["bookings"]):
            return redirect("/")
        b = self.state["bookings"][int(number) - 1]
        body = "<h1>Appointment booked</h1>" + messages(
            notice=f"{b['patient']}: {slot_label(b['slot'])} with {b['doctor']} ({b['reason']})."
        )
        return self._page("Booked", body + '<p><a href="/">Back to the home page</a></p>')


def _success(ctx: Context) -> bool:
    p = ctx.params
    return any(
        b["doctor"] == p["doctor"] and b["slot"] == p["slot"] and norm(b["patient"]) == norm(p["patient"])
        and b["reason"] == p["reason"]
        for b in ctx.state["bookings"]
    )  # fmt: skip


def expert() -> Any:
    """Open the calendar, pick the doctor, page to the week, click the slot, confirm with name and reason."""

    def act(env: Any) -> tuple[str, str]:
        env = env.unwrapped
        page, p = env.page, env.params
        if page.path.startswith("/calendar/confirm"):
            step = first(type_into(page, "Patient name", p["patient"]), choose(page, "Reason for visit", p["reason"]))
            return step or click(page, "Confirm booking", "button"), "confirm the booking"
        if not page.path.startswith("/calendar"):
            return click(page, "Book an appointment", "link"), "open the appointment calendar"
        shown = page.query
        if shown.get("doctor") != p["doctor"]:
            step = choose(page, "Doctor", p["doctor"])
            return step or click(page, "Show calendar", "button"), f"show the calendar of {p['doctor']}"
        week = int(shown.get("week", "0"))
        if week != p["week"]:
            name = "Next week >" if week < p["week"] else "< Previous week"
            return click(page, name, "link"), "go to the week of the appointment"
        return click(page, f"Book {slot_label(p['slot'])}", "link"), f"open the slot {slot_label(p['slot'])}"

    return act


TASK = WebTask(
    name="clinic-booking",
    description="book a given slot in a doctor's calendar, a few weeks ahead",
    site=ClinicSite,
    params=draw,
    instruction=lambda p: (
        f"Book an appointment with {p['doctor']} on {slot_label(p['slot'])} for {p['patient']}. "
        f"The reason for the visit is {p['reason']}."
    ),
    start_url="/",
    milestones=[
        ("doctor_chosen", lambda ctx: any(d == ctx.params["doctor"] for d, _ in ctx.state["views"])),
        ("target_week_shown", lambda ctx: (ctx.params["doctor"], ctx.params["week"]) in ctx.state["views"]),
        ("slot_opened", lambda ctx: (ctx.params["doctor"], ctx.params["slot"]) in ctx.state["opened"]),
        ("booked", lambda ctx: bool(ctx.state["bookings"])),
    ],
    success=_success,
    done=lambda ctx: bool(ctx.state["bookings"]),
    max_steps=20,
    expert=expert,
)
