package policy

import "strings"

// DiffOp says what happened to a line.
type DiffOp string

// The line operations.
const (
	DiffSame   DiffOp = "same"
	DiffAdd    DiffOp = "add"
	DiffRemove DiffOp = "remove"
)

// DiffLine is one line of a line-by-line diff, with its line number in the
// old text (OldNo) and the new text (NewNo); 0 where it has none. A
// DiffGap line has only Skipped, the number of unchanged lines it hides.
type DiffLine struct {
	Op      DiffOp
	Text    string
	OldNo   int
	NewNo   int
	Skipped int
}

// maxDiffCells bounds the comparison table; a larger changed middle is
// shown as removed then added, which is correct if not minimal.
const maxDiffCells = 4_000_000

// DiffLines returns a line diff of a and b using the longest common
// subsequence of the lines that differ between the common prefix and suffix.
func DiffLines(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	out := make([]DiffLine, 0, len(x)+len(y))
	for i := 0; i < pre; i++ {
		out = append(out, DiffLine{Op: DiffSame, Text: x[i], OldNo: i + 1, NewNo: i + 1})
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	out = append(out, diffMiddle(mx, my, pre)...)
	for i := 0; i < suf; i++ {
		oi, ni := len(x)-suf+i, len(y)-suf+i
		out = append(out, DiffLine{Op: DiffSame, Text: x[oi], OldNo: oi + 1, NewNo: ni + 1})
	}
	return out
}

func diffMiddle(x, y []string, offset int) []DiffLine {
	var out []DiffLine
	if len(x)*len(y) > maxDiffCells {
		for i, l := range x {
			out = append(out, DiffLine{Op: DiffRemove, Text: l, OldNo: offset + i + 1})
		}
		for j, l := range y {
			out = append(out, DiffLine{Op: DiffAdd, Text: l, NewNo: offset + j + 1})
		}
		return out
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	w := len(y) + 1
	lcs := make([]int32, (len(x)+1)*w)
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, DiffLine{Op: DiffSame, Text: x[i], OldNo: offset + i + 1, NewNo: offset + j + 1})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			out = append(out, DiffLine{Op: DiffRemove, Text: x[i], OldNo: offset + i + 1})
			i++
		default:
			out = append(out, DiffLine{Op: DiffAdd, Text: y[j], NewNo: offset + j + 1})
			j++
		}
	}
	return out
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// DiffGap stands for a run of unchanged lines left out of a changes-only
// diff; its Skipped says how many.
const DiffGap DiffOp = "gap"

// DiffContextLines is how many unchanged lines a changes-only diff keeps
// on each side of a change.
const DiffContextLines = 3

// ChangesOnly keeps the changed lines of a diff and up to context
// unchanged lines around each change; each run of unchanged lines it
// leaves out becomes one DiffGap line that counts them. A diff with no
// change becomes a single gap.
func ChangesOnly(lines []DiffLine, context int) []DiffLine {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == DiffSame {
			continue
		}
		for j := max(0, i-context); j <= min(len(lines)-1, i+context); j++ {
			keep[j] = true
		}
	}
	var out []DiffLine
	skipped := 0
	for i, l := range lines {
		if keep[i] {
			if skipped > 0 {
				out = append(out, DiffLine{Op: DiffGap, Skipped: skipped})
				skipped = 0
			}
			out = append(out, l)
			continue
		}
		skipped++
	}
	if skipped > 0 {
		out = append(out, DiffLine{Op: DiffGap, Skipped: skipped})
	}
	return out
}
