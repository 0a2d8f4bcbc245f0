package wallet

import (
	"reflect"
	"testing"
	"time"
)

func TestIssueAt(t *testing.T) {
	p := testProgram(t)
	tests := []struct {
		name   string
		period Period
		want   time.Time
	}{
		{"first period starts on the programme's start date", Period{2026, time.January}, time.Date(2026, 1, 5, 0, 5, 0, 0, p.Location)},
		{"later periods on the 1st", Period{2026, time.February}, time.Date(2026, 2, 1, 0, 5, 0, 0, p.Location)},
		{"last period", Period{2026, time.April}, time.Date(2026, 4, 1, 0, 5, 0, 0, p.Location)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.IssueAt(tt.period); !got.Equal(tt.want) {
				t.Errorf("IssueAt(%v) = %v; want %v", tt.period, got, tt.want)
			}
		})
	}
}

func TestReminderAt(t *testing.T) {
	p := testProgram(t)
	jan, feb := Period{2026, time.January}, Period{2026, time.February}
	tests := []struct {
		name   string
		period Period
		days   int
		want   time.Time
	}{
		{"D-7 of January", jan, 7, time.Date(2026, 1, 25, 10, 0, 0, 0, p.Location)},
		{"D-3 of January", jan, 3, time.Date(2026, 1, 29, 10, 0, 0, 0, p.Location)},
		{"D-1 is the last day", jan, 1, time.Date(2026, 1, 31, 10, 0, 0, 0, p.Location)},
		{"D-1 of February (28 days)", feb, 1, time.Date(2026, 2, 28, 10, 0, 0, 0, p.Location)},
		{"D-7 of February", feb, 7, time.Date(2026, 2, 22, 10, 0, 0, 0, p.Location)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.ReminderAt(tt.period, tt.days)
			if !got.Equal(tt.want) {
				t.Errorf("ReminderAt(%v, %d) = %v; want %v", tt.period, tt.days, got, tt.want)
			}
			if p.InQuietHours(got) {
				t.Errorf("ReminderAt(%v, %d) = %v falls in quiet hours", tt.period, tt.days, got)
			}
		})
	}
}

func TestReminderSchedule(t *testing.T) {
	p := testProgram(t)
	p.ReminderDays = []int{1, 7, 3, 3, 27}
	tests := []struct {
		name   string
		period Period
		want   []int
	}{
		// The programme starts on 5 January: D-27 (5 January 10:00) still
		// follows the issue at 00:05 that day.
		{"January keeps D-27 after the start", Period{2026, time.January}, []int{27, 7, 3, 1}},
		// 28-day February: D-27 is 2 February.
		{"February", Period{2026, time.February}, []int{27, 7, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.ReminderSchedule(tt.period); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReminderSchedule(%v) = %v; want %v", tt.period, got, tt.want)
			}
		})
	}
	p.Start = time.Date(2026, 1, 26, 0, 0, 0, 0, p.Location)
	if got, want := p.ReminderSchedule(Period{2026, time.January}), []int{3, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("ReminderSchedule(January, start 26th) = %v; want %v (D-27 and D-7 fall before the issue)", got, want)
	}
}

func TestQuietEndAndNextQuiet(t *testing.T) {
	p := testProgram(t)
	at := func(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, p.Location) }
	tests := []struct {
		name      string
		t         time.Time
		quietEnd  time.Time
		nextQuiet time.Time
	}{
		{"midday", at(10, 12, 0), at(10, 12, 0), at(10, 21, 0)},
		{"just before quiet", at(10, 20, 59), at(10, 20, 59), at(10, 21, 0)},
		{"quiet begins at 21:00", at(10, 21, 0), at(11, 9, 0), at(10, 21, 0)},
		{"after midnight", at(11, 0, 5), at(11, 9, 0), at(11, 0, 5)},
		{"quiet ends at 09:00", at(11, 9, 0), at(11, 9, 0), at(11, 21, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.QuietEnd(tt.t); !got.Equal(tt.quietEnd) {
				t.Errorf("QuietEnd(%v) = %v; want %v", tt.t, got, tt.quietEnd)
			}
			if got := p.NextQuiet(tt.t); !got.Equal(tt.nextQuiet) {
				t.Errorf("NextQuiet(%v) = %v; want %v", tt.t, got, tt.nextQuiet)
			}
		})
	}
	p.QuietFrom, p.QuietUntil = 0, 0
	if got := p.NextQuiet(at(10, 12, 0)); !got.IsZero() {
		t.Errorf("NextQuiet without quiet hours = %v; want zero", got)
	}
}

func TestPlanWave(t *testing.T) {
	p := testProgram(t)
	jan := Period{2026, time.January}
	at := func(d, h, m, s int) time.Time { return time.Date(2026, 1, d, h, m, s, 0, p.Location) }
	nominal := p.ReminderAt(jan, 1) // 31 January 10:00
	dayEnd := p.NextQuiet(nominal)  // 21:00 the same day: 11 h of sending time
	issue := p.IssueAt(jan)
	tests := []struct {
		name       string
		recipients int
		rate       float64
		earliest   time.Time
		end        time.Time
		start      time.Time
		early      bool
		late       bool
		windows    int
	}{
		{"fits: starts at 10:00", 1000, 25, issue, dayEnd, nominal, false, false, 1},
		{"exactly 11 h fits", 11 * 3600, 1, issue, dayEnd, nominal, false, false, 1},
		// 12 h of sending needs the hour from 09:00, when quiet hours end.
		{"12 h starts at 09:00", 12 * 3600, 1, issue, dayEnd, at(31, 9, 0, 0), true, false, 1},
		// 14 h: 12 h on the 31st (09–21) and 2 h before 21:00 on the 30th.
		{"14 h starts the evening before", 14 * 3600, 1, issue, dayEnd, at(30, 19, 0, 0), true, false, 2},
		// A million at 25/s is 40 000 s = 11 h 6 min 40 s: from 09:53:20.
		{"a million at 25/s", 1000000, 25, issue, dayEnd, at(31, 9, 53, 20), true, false, 1},
		{"cannot start before the floor", 14 * 3600, 1, at(31, 8, 0, 0), dayEnd, at(31, 9, 0, 0), true, true, 2},
		{"no end: no early start", 14 * 3600, 1, issue, time.Time{}, nominal, false, false, 2},
		{"nothing to send", 0, 25, issue, dayEnd, nominal, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := p.PlanWave(tt.recipients, tt.rate, tt.earliest, nominal, tt.end)
			if !w.Start.Equal(tt.start) || w.Early != tt.early || w.Late != tt.late || len(w.Windows) != tt.windows {
				t.Fatalf("PlanWave(%d, %v) = start %v early %v late %v windows %d; want %v %v %v %d",
					tt.recipients, tt.rate, w.Start, w.Early, w.Late, len(w.Windows), tt.start, tt.early, tt.late, tt.windows)
			}
			if got := p.NeedsEarlyStart(tt.recipients, tt.rate, nominal, tt.end); !tt.end.IsZero() && got != tt.early {
				t.Errorf("NeedsEarlyStart(%d, %v) = %v; want %v", tt.recipients, tt.rate, got, tt.early)
			}
			// Every slot is outside quiet hours, in order, one interval apart
			// within a window, and the windows cover every recipient once.
			covered := 0
			for _, win := range w.Windows {
				if win.First != covered {
					t.Errorf("window %+v starts at recipient %d; want %d", win, win.First, covered)
				}
				covered += win.Count
				first, last := w.Slot(win.First), w.Slot(win.First+win.Count-1)
				if p.InQuietHours(first) || p.InQuietHours(last) {
					t.Errorf("window %+v: slots %v … %v in quiet hours", win, first, last)
				}
				if !win.Until.IsZero() && !last.Before(win.Until) {
					t.Errorf("window %+v: last slot %v not before %v", win, last, win.Until)
				}
			}
			if covered != tt.recipients {
				t.Errorf("windows cover %d recipients; want %d", covered, tt.recipients)
			}
			if !tt.late && !tt.end.IsZero() && w.Finish.After(tt.end) {
				t.Errorf("Finish = %v after end %v", w.Finish, tt.end)
			}
		})
	}
}

func TestPlanWaveSlots(t *testing.T) {
	p := testProgram(t)
	at := func(d, h, m, s int) time.Time { return time.Date(2026, 1, d, h, m, s, 0, p.Location) }
	// An annulment notice wave at 00:00: it waits for 09:00, and the part that
	// does not fit before 21:00 goes on the next morning.
	w := p.PlanWave(13*3600, 1, at(1, 0, 0, 0), at(1, 0, 0, 0), time.Time{})
	tests := []struct {
		i    int
		want time.Time
	}{
		{0, at(1, 9, 0, 0)},
		{1, at(1, 9, 0, 1)},
		{12*3600 - 1, at(1, 20, 59, 59)},
		{12 * 3600, at(2, 9, 0, 0)},
		{13*3600 - 1, at(2, 9, 59, 59)},
	}
	for _, tt := range tests {
		if got := w.Slot(tt.i); !got.Equal(tt.want) {
			t.Errorf("Slot(%d) = %v; want %v", tt.i, got, tt.want)
		}
	}
}

func TestCoversAndAudience(t *testing.T) {
	p := testProgram(t)
	jan := Period{2026, time.January}
	d := func(y int) time.Time { return time.Date(y, 3, 1, 0, 0, 0, 0, time.UTC) }
	mother := Member{ID: 1, FamilyID: "F", BirthDate: d(1985), Role: RoleApplicant, FullName: "Нұрланова Айгүл"}
	father := Member{ID: 2, FamilyID: "F", BirthDate: d(1983), Role: RoleMember, FullName: "Нұрланов Ерлан"}
	child := Member{ID: 3, FamilyID: "F", BirthDate: d(2014), Role: RoleMember}
	teen := Member{ID: 4, FamilyID: "F", BirthDate: time.Date(2008, 1, 5, 0, 0, 0, 0, time.UTC), Role: RoleMember} // 18 on 5 January 2026
	other := Member{ID: 5, FamilyID: "G", BirthDate: d(1990), Role: RoleApplicant}

	covers := []struct {
		name      string
		m, target Member
		want      bool
	}{
		{"own voucher", father, father, true},
		{"applicant covers a minor", mother, child, true},
		{"applicant does not cover an adult", mother, father, false},
		{"18 on the eligibility day is an adult", mother, teen, false},
		{"a member does not cover a minor", father, child, false},
		{"other family", other, child, false},
	}
	for _, tt := range covers {
		if got := p.Covers(tt.m, tt.target, jan); got != tt.want {
			t.Errorf("%s: Covers(%d, %d) = %v; want %v", tt.name, tt.m.ID, tt.target.ID, got, tt.want)
		}
	}

	amount := TengeToTiyn(4325)
	voucher := func(m Member, s State) Voucher {
		return Voucher{ID: m.ID * 10, MemberID: m.ID, FamilyID: m.FamilyID, Period: jan, Amount: amount, State: s}
	}
	family := func(linked map[int64]bool, blocked map[int64]bool, states map[int64]State) FamilyView {
		f := FamilyView{Family: Family{ID: "F"}}
		for _, m := range []Member{mother, father, child, teen} {
			f.Members = append(f.Members, MemberView{Member: m, Linked: linked[m.ID], Blocked: blocked[m.ID]})
			f.Vouchers = append(f.Vouchers, voucher(m, states[m.ID]))
		}
		return f
	}
	allIssued := map[int64]State{1: StateIssued, 2: StateIssued, 3: StateIssued, 4: StateIssued}
	tests := []struct {
		name    string
		f       FamilyView
		kind    NoticeKind
		want    map[int64]Tiyn
		comment string
	}{
		{"issued: linked members, the applicant with the minor", family(map[int64]bool{1: true, 2: true}, nil, allIssued), NoticeIssued,
			map[int64]Tiyn{1: 2 * amount, 2: amount}, ""},
		{"blocked and unlinked hear nothing", family(map[int64]bool{1: true}, map[int64]bool{1: true}, allIssued), NoticeIssued,
			map[int64]Tiyn{}, ""},
		{"reminder: only what is still issued", family(map[int64]bool{1: true, 2: true, 4: true},
			nil, map[int64]State{1: StateActivated, 2: StateIssued, 3: StateIssued, 4: StateActivated}), NoticeReminder,
			map[int64]Tiyn{1: amount, 2: amount}, "the mother still has the child's voucher; the teen activated"},
		{"reminder: everything activated, nobody reminded", family(map[int64]bool{1: true, 2: true},
			nil, map[int64]State{1: StateActivated, 2: StateSpent, 3: StateActivated, 4: StateActivated}), NoticeReminder,
			map[int64]Tiyn{}, ""},
		{"reminder: a linked minor is not reminded", family(map[int64]bool{3: true}, nil, allIssued), NoticeReminder,
			map[int64]Tiyn{}, ""},
		{"annulled: what lapsed", family(map[int64]bool{1: true, 2: true},
			nil, map[int64]State{1: StateActivated, 2: StateAnnulled, 3: StateAnnulled, 4: StateAnnulled}), NoticeAnnulled,
			map[int64]Tiyn{1: amount, 2: amount}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Audience(tt.f, jan, tt.kind); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Audience(%s) = %v; want %v %s", tt.kind, got, tt.want, tt.comment)
			}
		})
	}
}

func TestNoticeTotalAndOrder(t *testing.T) {
	n := Notice{Lines: []NoticeLine{{MemberID: 3, Name: "Ә", Amount: 100}, {MemberID: 1, Name: "Я", Self: true, Amount: 200}, {MemberID: 2, Name: "А", Amount: 300}}}
	n.SortLines()
	var ids []int64
	for _, l := range n.Lines {
		ids = append(ids, l.MemberID)
	}
	if want := []int64{1, 2, 3}; !reflect.DeepEqual(ids, want) {
		t.Errorf("SortLines order = %v; want %v", ids, want)
	}
	if n.Total() != 600 {
		t.Errorf("Total() = %d; want 600", n.Total())
	}
	if !NoticeReminder.Scheduled() || NoticeReceipt.Scheduled() || NoticeFrozen.Scheduled() {
		t.Errorf("Scheduled: reminders wait out quiet hours, receipts and freezes do not")
	}
}

// FuzzPlanWave holds the planner to its promises for any size, rate, quiet
// hours and start: every recipient has exactly one slot, slots are in order
// and outside quiet hours, and a wave that is not late finishes by its end.
func FuzzPlanWave(f *testing.F) {
	f.Add(1000, 25.0, 7, 21, 9, int64(0))
	f.Add(50000, 0.5, 1, 22, 6, int64(3600))
	f.Add(3, 1000.0, 3, 0, 0, int64(-7200))
	f.Add(100, 0.001, 1, 9, 21, int64(40000))
	f.Fuzz(func(t *testing.T, n int, rate float64, days, from, until int, offset int64) {
		if n < 0 || n > 200000 || !(rate >= 0.0005 && rate <= 5000) || days < 1 || days > 27 {
			t.Skip()
		}
		p := testProgram(t)
		p.QuietFrom, p.QuietUntil = ((from%24)+24)%24, ((until%24)+24)%24
		p.ReminderHour = 12
		if p.InQuietHours(time.Date(2026, 1, 1, 12, 0, 0, 0, p.Location)) {
			t.Skip()
		}
		jan := Period{2026, time.January}
		nominal := p.ReminderAt(jan, days)
		earliest := p.IssueAt(jan).Add(time.Duration(offset%(30*86400)) * time.Second)
		end := p.NextQuiet(nominal)
		if end.IsZero() || end.After(p.Deadline(jan)) {
			end = p.Deadline(jan)
		}
		w := p.PlanWave(n, rate, earliest, nominal, end)
		covered := 0
		prev := time.Time{}
		for _, win := range w.Windows {
			if win.First != covered || win.Count <= 0 {
				t.Fatalf("window %+v after %d recipients", win, covered)
			}
			covered += win.Count
			for _, i := range []int{win.First, win.First + win.Count - 1} {
				s := w.Slot(i)
				if p.InQuietHours(s) {
					t.Fatalf("PlanWave(%d, %v) slot %d at %v in quiet hours %d–%d", n, rate, i, s, p.QuietFrom, p.QuietUntil)
				}
				if s.Before(prev) || s.Before(w.Start) {
					t.Fatalf("slot %d at %v before the previous %v or the start %v", i, s, prev, w.Start)
				}
				prev = s
			}
		}
		if covered != n {
			t.Fatalf("PlanWave(%d) covers %d recipients", n, covered)
		}
		if !w.Late && w.Finish.After(end) {
			t.Fatalf("PlanWave(%d, %v) finishes %v after end %v without being late", n, rate, w.Finish, end)
		}
		if w.Start.Before(earliest) {
			t.Fatalf("start %v before the earliest %v", w.Start, earliest)
		}
	})
}
