package subscribers

import "fmt"

// texts are the few words notify writes itself, in each language; the
// updates come written.
type texts struct {
	confirmSubject, confirmBody, footer string
}

var allTexts = map[string]texts{
	"en": {
		confirmSubject: "Confirm your subscription to the status page",
		confirmBody:    "Someone, hopefully you, asked to be told by e-mail of incidents and maintenance.\n\nTo confirm, open this link:\n%s\n\nIf it was not you, ignore this message: nothing more will be sent.",
		footer:         "To stop these messages, open:\n%s",
	},
	"fr": {
		confirmSubject: "Confirmez votre abonnement à la page d’état",
		confirmBody:    "Quelqu’un, vous sans doute, a demandé à être prévenu par e-mail des incidents et des maintenances.\n\nPour confirmer, ouvrez ce lien :\n%s\n\nSi ce n’est pas vous, ignorez ce message : vous ne recevrez rien d’autre.",
		footer:         "Pour ne plus recevoir ces messages, ouvrez :\n%s",
	},
	"de": {
		confirmSubject: "Bestätigen Sie Ihr Abonnement der Statusseite",
		confirmBody:    "Jemand, hoffentlich Sie, möchte per E-Mail über Störungen und Wartungen informiert werden.\n\nZum Bestätigen öffnen Sie diesen Link:\n%s\n\nWaren Sie es nicht, ignorieren Sie diese Nachricht: Sie erhalten nichts weiter.",
		footer:         "Um diese Nachrichten abzubestellen, öffnen Sie:\n%s",
	},
}

func textsIn(lang string) texts {
	if t, ok := allTexts[lang]; ok {
		return t
	}
	return allTexts["en"]
}

type confirmMail struct{ subject, body string }

func confirmText(lang, link string) confirmMail {
	t := textsIn(lang)
	return confirmMail{subject: t.confirmSubject, body: fmt.Sprintf(t.confirmBody, link)}
}

func withFooter(lang, body, unsubscribe string) string {
	return body + "\n\n-- \n" + fmt.Sprintf(textsIn(lang).footer, unsubscribe) + "\n"
}
