package wallet

import (
	"fmt"
	"sort"
	"time"
)

// NoticeKind names why the service writes to a member on its own initiative.
// The kinds are those of the notifications table.
type NoticeKind string

const (
	NoticeIssued   NoticeKind = "issued"   // a period's vouchers were issued
	NoticeReminder NoticeKind = "reminder" // vouchers still to activate before the deadline
	NoticeAnnulled NoticeKind = "annulled" // vouchers not activated in time lapsed
	NoticeExpired  NoticeKind = "expired"  // activated value lapsed by the expiry rule
	NoticeReceipt  NoticeKind = "receipt"  // a purchase paid with vouchers
	NoticeVoid     NoticeKind = "void"     // a purchase was voided
	NoticeFrozen   NoticeKind = "frozen"   // the family's wallet was frozen ("Not me")
)

// Scheduled reports whether the kind is written on the service's own schedule
// (issuance, reminders, annulment, expiry) and so waits out quiet hours.
// Receipts, voids and freezes answer what a person has just done at a till or
// in the chat, so they go at once, night or day.
func (k NoticeKind) Scheduled() bool {
	switch k {
	case NoticeIssued, NoticeReminder, NoticeAnnulled, NoticeExpired:
		return true
	}
	return false
}

// NoticeLine is one person's part of a notice: whose voucher and how much.
type NoticeLine struct {
	MemberID int64
	Name     string // short name ("Айгүл Н."), never the full registry name
	Self     bool   // the recipient's own voucher
	Amount   Tiyn
}

// Notice is one message to a member as the sender renders it: where it goes,
// in which language, and the figures it states, read when it is sent.
type Notice struct {
	ID         int64 // the notifications row
	Kind       NoticeKind
	MemberID   int64
	ChatID     int64
	Lang       string
	City       string
	Period     Period
	DaysBefore int   // reminder: the schedule's day (7, 3, 1)
	RefID      int64 // receipt, void: the redemption; frozen: the freeze, when known
	// Lines are the vouchers the notice is about, the recipient's first:
	// issued — what was issued; reminder — what is still to activate;
	// annulled — what lapsed unactivated; expired — activated value that lapsed.
	Lines     []NoticeLine
	Deadline  time.Time // the period's activation deadline (first instant of the next month)
	NextIssue time.Time // annulled: when the next vouchers come; zero after the last period
	ExpiredAt time.Time // expired: when the value lapsed
	Now       time.Time // when the notice is rendered, for "days left"
}

// Total is the sum of the notice's lines.
func (n Notice) Total() Tiyn {
	var t Tiyn
	for _, l := range n.Lines {
		t += l.Amount
	}
	return t
}

// SortLines puts the recipient's own line first, then the others by name.
func (n *Notice) SortLines() {
	sort.SliceStable(n.Lines, func(i, j int) bool {
		a, b := n.Lines[i], n.Lines[j]
		if a.Self != b.Self {
			return a.Self
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.MemberID < b.MemberID
	})
}

// DeliveryFailure classifies why a message did not go out, as the sender reads
// Telegram's answer; the jobs act on the class, not on HTTP codes.
type DeliveryFailure int

const (
	// DeliveryTemporary: a 5xx, a timeout, a broken connection. Try again later.
	DeliveryTemporary DeliveryFailure = iota
	// DeliveryThrottled: 429. Every sender pauses for RetryAfter.
	DeliveryThrottled
	// DeliveryBlocked: 403. The person blocked the bot; write no more until
	// they start it again.
	DeliveryBlocked
	// DeliveryRejected: the request itself is wrong (400); retrying cannot help.
	DeliveryRejected
)

func (f DeliveryFailure) String() string {
	switch f {
	case DeliveryTemporary:
		return "temporary"
	case DeliveryThrottled:
		return "throttled"
	case DeliveryBlocked:
		return "blocked"
	case DeliveryRejected:
		return "rejected"
	}
	return fmt.Sprintf("DeliveryFailure(%d)", int(f))
}

// DeliveryError is a failed delivery with its class. Err never carries the
// message text or personal data.
type DeliveryError struct {
	Failure    DeliveryFailure
	RetryAfter time.Duration // DeliveryThrottled: how long Telegram asked us to wait
	Err        error
}

func (e *DeliveryError) Error() string {
	s := "delivery " + e.Failure.String()
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// IssueAt is when period p's vouchers are issued: 00:05 local time on the
// period's first day, which for the programme's first period is its start date.
func (pr *Program) IssueAt(p Period) time.Time {
	s := pr.PeriodStart(p).In(pr.Location)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 5, 0, 0, pr.Location)
}

// ReminderAt is when the reminder daysBefore days before p's deadline is due:
// ReminderHour local time on the day that many days before the deadline's day
// (D-1 is the period's last day).
func (pr *Program) ReminderAt(p Period, daysBefore int) time.Time {
	d := pr.Deadline(p).In(pr.Location)
	return time.Date(d.Year(), d.Month(), d.Day()-daysBefore, pr.ReminderHour, 0, 0, 0, pr.Location)
}

// ReminderSchedule lists p's reminder days (days before the deadline) in the
// order they fall, leaving out any that would come before the period's
// vouchers are issued.
func (pr *Program) ReminderSchedule(p Period) []int {
	days := append([]int(nil), pr.ReminderDays...)
	sort.Sort(sort.Reverse(sort.IntSlice(days)))
	var out []int
	issue := pr.IssueAt(p)
	for i, d := range days {
		if i > 0 && d == days[i-1] {
			continue
		}
		if pr.ReminderAt(p, d).After(issue) {
			out = append(out, d)
		}
	}
	return out
}

// Covers reports whether member m hears about target's voucher of p: their own,
// and, for the family's applicant, those of members under 18 on the period's
// eligibility day, which the applicant activates.
func (pr *Program) Covers(m, target Member, p Period) bool {
	if m.FamilyID != target.FamilyID {
		return false
	}
	if m.ID == target.ID {
		return true
	}
	return m.Role == RoleApplicant && pr.ApplicantMinors && target.MinorOn(pr.EligibilityDay(p))
}

// Audience says, for each member of f who gets a notice of kind about period
// p, the amount it states: issued — every voucher of p the member covers;
// reminder — those still to activate, for adults only (a minor's voucher is
// activated by the applicant); annulled — those that lapsed unactivated. Only
// members linked to Telegram who have not blocked the bot are told. Consent is
// not required: a reminder is how a person who has not yet agreed learns what
// is at stake, and the Activate button leads them through consent.
func (pr *Program) Audience(f FamilyView, p Period, kind NoticeKind) map[int64]Tiyn {
	out := map[int64]Tiyn{}
	members := map[int64]Member{}
	for _, m := range f.Members {
		members[m.ID] = m.Member
	}
	for _, m := range f.Members {
		if !m.Linked || m.Blocked {
			continue
		}
		if kind == NoticeReminder && m.MinorOn(pr.EligibilityDay(p)) {
			continue
		}
		for _, v := range f.Vouchers {
			t, ok := members[v.MemberID]
			if !ok || v.Period != p || !pr.Covers(m.Member, t, p) {
				continue
			}
			switch {
			case kind == NoticeIssued,
				kind == NoticeReminder && v.State == StateIssued,
				kind == NoticeAnnulled && v.State == StateAnnulled:
				out[m.ID] += v.Amount
			}
		}
	}
	for id, amount := range out {
		if amount == 0 {
			delete(out, id)
		}
	}
	return out
}

// hourAtOrBefore is the last instant not after t at hour:00 local time.
func (pr *Program) hourAtOrBefore(t time.Time, hour int) time.Time {
	l := t.In(pr.Location)
	b := time.Date(l.Year(), l.Month(), l.Day(), hour, 0, 0, 0, pr.Location)
	if b.After(t) {
		b = time.Date(l.Year(), l.Month(), l.Day()-1, hour, 0, 0, 0, pr.Location)
	}
	return b
}

// hourAfter is the first instant after t at hour:00 local time.
func (pr *Program) hourAfter(t time.Time, hour int) time.Time {
	l := t.In(pr.Location)
	b := time.Date(l.Year(), l.Month(), l.Day(), hour, 0, 0, 0, pr.Location)
	if !b.After(t) {
		b = time.Date(l.Year(), l.Month(), l.Day()+1, hour, 0, 0, 0, pr.Location)
	}
	return b
}

// QuietEnd is t, or when t falls in quiet hours, the instant they end.
func (pr *Program) QuietEnd(t time.Time) time.Time {
	if !pr.InQuietHours(t) {
		return t
	}
	return pr.hourAfter(t, pr.QuietUntil)
}

// NextQuiet is t when it falls in quiet hours, else the instant they next
// begin; zero when the programme has no quiet hours.
func (pr *Program) NextQuiet(t time.Time) time.Time {
	if pr.QuietFrom == pr.QuietUntil {
		return time.Time{}
	}
	if pr.InQuietHours(t) {
		return t
	}
	return pr.hourAfter(t, pr.QuietFrom)
}

// SendWindow is a stretch outside quiet hours in which recipients First …
// First+Count-1 of a wave are due, one every 1/Rate seconds from From.
type SendWindow struct {
	From, Until time.Time // Until is zero when no quiet hours follow
	First       int
	Count       int
}

// WavePlan is when a wave of messages goes out under the send limiter.
type WavePlan struct {
	Recipients int
	Rate       float64   // messages a second the wave is planned at
	Nominal    time.Time // when the schedule says the wave starts
	End        time.Time // by when it must be sent; zero: no bound
	Start      time.Time // when it starts
	Finish     time.Time // when its last message is due
	Early      bool      // Start is before Nominal: the wave would not fit otherwise
	Late       bool      // even the earliest start cannot finish by End
	Windows    []SendWindow
}

// Interval is the planned time between two messages of the wave.
func (w WavePlan) Interval() time.Duration {
	if w.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / w.Rate)
}

// Slot is when recipient i (0-based, in the wave's order) is due.
func (w WavePlan) Slot(i int) time.Time {
	for _, win := range w.Windows {
		if i >= win.First && i < win.First+win.Count {
			return win.From.Add(time.Duration(i-win.First) * w.Interval())
		}
	}
	return w.Finish
}

// NeedsEarlyStart reports the planning rule: recipients ÷ rate is more time
// than the sending time (outside quiet hours) from nominal to end.
func (pr *Program) NeedsEarlyStart(recipients int, rate float64, nominal, end time.Time) bool {
	need := time.Duration(float64(recipients) / rate * float64(time.Second))
	return pr.sendingTime(nominal, end) < need
}

// sendingTime is how much of [from, to) lies outside quiet hours.
func (pr *Program) sendingTime(from, to time.Time) time.Duration {
	var d time.Duration
	for t := from; t.Before(to); {
		t = pr.QuietEnd(t)
		if !t.Before(to) {
			break
		}
		until := pr.NextQuiet(t)
		if until.IsZero() || until.After(to) {
			until = to
		}
		d += until.Sub(t)
		t = until
	}
	return d
}

// PlanWave plans a wave of recipients messages at rate a second. It starts at
// nominal, or, when recipients ÷ rate is more than the sending time left
// before end, early enough to finish by end; never before earliest, never in
// quiet hours. Without an end (a notice that follows an event) it simply
// starts at nominal, or when quiet hours end.
func (pr *Program) PlanWave(recipients int, rate float64, earliest, nominal, end time.Time) WavePlan {
	if rate <= 0 {
		rate = 1
	}
	w := WavePlan{Recipients: recipients, Rate: rate, Nominal: nominal, End: end}
	start := nominal
	if start.Before(earliest) {
		start = earliest
	}
	if !end.IsZero() && recipients > 0 {
		need := time.Duration(recipients) * w.Interval()
		s, ok := pr.latestStart(end, need, earliest)
		if !ok {
			w.Late = true
		}
		if s.Before(start) {
			start = s
		}
	}
	start = pr.QuietEnd(start)
	w.Start = start
	w.Early = start.Before(nominal)
	t := start
	for i := 0; i < recipients; {
		t = pr.QuietEnd(t)
		until := pr.NextQuiet(t)
		n := recipients - i
		if !until.IsZero() {
			// slots From, From+iv, … strictly before until
			iv := w.Interval()
			fit := int((until.Sub(t) + iv - 1) / iv)
			n = min(n, fit)
		}
		w.Windows = append(w.Windows, SendWindow{From: t, Until: until, First: i, Count: n})
		i += n
		t = until
	}
	w.Finish = start
	if k := len(w.Windows); k > 0 {
		last := w.Windows[k-1]
		w.Finish = last.From.Add(time.Duration(last.Count) * w.Interval())
	}
	if !end.IsZero() && w.Finish.After(end) {
		w.Late = true
	}
	return w
}

// latestStart is the latest instant from which need of sending time (outside
// quiet hours) remains before end; false when even floor is too late.
func (pr *Program) latestStart(end time.Time, need time.Duration, floor time.Time) (time.Time, bool) {
	t, rem := end, need
	for rem > 0 {
		if !t.After(floor) {
			return floor, false
		}
		prev := t.Add(-time.Nanosecond)
		if pr.InQuietHours(prev) {
			t = pr.hourAtOrBefore(prev, pr.QuietFrom)
			continue
		}
		seg := floor
		if pr.QuietFrom != pr.QuietUntil {
			if b := pr.hourAtOrBefore(prev, pr.QuietUntil); b.After(seg) {
				seg = b
			}
		}
		if t.Sub(seg) >= rem {
			return t.Add(-rem), true
		}
		rem -= t.Sub(seg)
		t = seg
	}
	return t, true
}

// ScheduleStep is a step of the schedule done once per period ("issue",
// "remind-7", "annul", "expire") with the plan of the notices it wrote.
type ScheduleStep struct {
	Period    Period
	Step      string
	Plan      WavePlan // Recipients, Nominal, Start, Finish, Early, Late
	PlannedAt time.Time
	DoneAt    time.Time // zero: planned, not done
	Note      string
}

// Done reports whether the step has happened.
func (s ScheduleStep) Done() bool { return !s.DoneAt.IsZero() }

// ReminderStep names the reminder wave daysBefore the deadline.
func ReminderStep(daysBefore int) string { return fmt.Sprintf("remind-%d", daysBefore) }

// NoticeWave asks the store to write, set-based, one notice of Kind about
// Period to each member of its audience (see Program.Audience), at the slots
// of the plan Plan makes for their number, and to mark Step done in the same
// transaction.
type NoticeWave struct {
	Kind            NoticeKind
	Period          Period
	DaysBefore      int // reminder
	Step            string
	EligibilityDay  time.Time // minors are judged on it
	ApplicantMinors bool
	ExpiresAt       time.Time // expired: the instant whose lapsed value is told
	Now             time.Time
	Plan            func(recipients int) WavePlan
}

// NoticeState is what the record says about a notice when its job runs.
type NoticeState struct {
	Linked  bool // the member has a Telegram link
	Blocked bool // and it is marked blocked
	Sent    bool // already sent (a repeated job)
	Failed  bool // already given up on
}

// NoticeOutcome is how a notice's job ended, recorded with the job's completion.
type NoticeOutcome struct {
	At      time.Time
	Sent    bool
	Blocked bool   // Telegram said the bot is blocked: mark the link
	ChatID  int64  // the chat the 403 came from
	Reason  string // not sent: why, without personal data
	Skipped bool   // not sent because it no longer applies (not a failure)
}
