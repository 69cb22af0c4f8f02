package backup

// notAllowed reports a part of the account Microsoft refused to show
// (403): the sign-in lacks a permission, for instance because the person
// did not accept all of them. That part keeps its previous backup and is
// tried again next run; the rest of the run goes on.
func (ru *run) notAllowed(what string, err error) {
	ru.log.Warn("Microsoft refused access", "what", what, "err", err)
	ru.warn("Microsoft 365 did not let Lifeboat %s of %s: Lifeboat was not given that permission. "+
		"Sign in again and accept every permission Lifeboat asks for; until then that part is not backed up (earlier backups of it are kept).",
		what, ru.o.Account.UPN)
}
