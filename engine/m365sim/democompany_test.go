package m365sim

import "testing"

func TestDemoCompany(t *testing.T) {
	t.Parallel()
	opts := DemoOptions{Company: true, MessagesPerUser: 40, FilesPerUser: 2, MaxFileSize: 64 << 10}
	tn, err := GenerateDemo(5, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tn.Users()); n < 8 || n > 12 {
		t.Fatalf("the demo company has %d accounts, want 8 to 12", n)
	}
	for upn, want := range map[string]UserState{
		DemoInfoMailbox:            {Mailbox: MailboxShared},
		DemoRoomMailbox:            {Mailbox: MailboxRoom},
		DemoFormerEmployee:         {Mailbox: MailboxShared, OneDrive: true},
		"zoe.bakker@" + DemoDomain: {AccountEnabled: true, Licensed: true, Mailbox: MailboxUser, OneDrive: true},
	} {
		st, err := tn.UserState(upn)
		if err != nil {
			t.Fatal(err)
		}
		if st != want {
			t.Errorf("%s: %+v, want %+v", upn, st, want)
		}
	}
	for _, upn := range []string{DemoInfoMailbox, DemoFormerEmployee} {
		msgs, err := tn.Messages(upn, "")
		if err != nil || len(msgs) == 0 {
			t.Errorf("%s has no mail (%v)", upn, err)
		}
	}
	if items, err := tn.DriveItems(DemoFormerEmployee); err != nil || len(items) < 3 {
		t.Errorf("the former employee's OneDrive: %d items, %v", len(items), err)
	}
	again, err := GenerateDemo(5, opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := demoFingerprint(t, tn), demoFingerprint(t, again)
	if len(a) != len(b) {
		t.Fatalf("same seed, different company: %d vs %d lines", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different company at line %d:\n%s\n%s", i, a[i], b[i])
		}
	}
}
