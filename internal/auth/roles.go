package auth

// Role is a user's level of access. Each role may do everything the roles
// below it may do (see the roles table of DESIGN.md).
type Role string

// The roles, from least to most access.
const (
	Viewer  Role = "viewer"
	Auditor Role = "auditor"
	Editor  Role = "editor"
	Admin   Role = "admin"
)

// Roles lists every role from least to most access.
var Roles = []Role{Viewer, Auditor, Editor, Admin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a user with role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.Valid() && r.rank() >= need.rank() }
