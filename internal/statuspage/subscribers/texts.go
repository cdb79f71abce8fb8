package subscribers

import (
	"fmt"

	"github.com/illico-dev/illico/internal/statuspage/texts"
)

// mailTexts are the few words the subscribers' messages carry besides the
// updates, which come written: the confirmation and the footer, from the
// status page's catalogue.
type mailTexts struct{ cat *texts.Catalogue }

func loadMailTexts() (mailTexts, error) {
	cat, err := texts.Load()
	if err != nil {
		return mailTexts{}, fmt.Errorf("subscribers: %w", err)
	}
	return mailTexts{cat: cat}, nil
}

type confirmMail struct{ subject, body string }

func (t mailTexts) confirm(lang, link string) confirmMail {
	return confirmMail{subject: t.cat.T(lang, "mail.confirm.subject"), body: t.cat.Tf(lang, "mail.confirm.body", link)}
}

func (t mailTexts) withFooter(lang, body, unsubscribe string) string {
	return body + "\n\n-- \n" + t.cat.Tf(lang, "mail.footer", unsubscribe) + "\n"
}
