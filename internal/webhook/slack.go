package webhook

import (
	"strings"
	"time"
)

// slackBody is a Slack message as an incoming webhook takes it: text (the
// notification and fallback) and Block Kit blocks.
type slackBody struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func slackMessage(now time.Time, ev Event) slackBody {
	heading := title(ev.Type)
	text := heading
	if ev.Summary != "" {
		text += ": " + ev.Summary
	}
	section := "*" + slackEscape(heading) + "*"
	if ev.Summary != "" {
		section += "\n" + slackEscape(ev.Summary)
	}
	if ev.Link != "" {
		section += "\n<" + slackEscape(ev.Link) + "|Open in Charter>"
	}
	return slackBody{Text: text, Blocks: []slackBlock{
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: section}},
		{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: "`" + ev.Type + "` · " + now.UTC().Format(time.RFC3339)}}},
	}}
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning
// to, so that a summary cannot make links or mentions.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
