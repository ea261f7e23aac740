package document

import "gorm.io/gorm"

// OnNewVersion adds what runs in the transaction of a new version of an
// existing document, after it became the one in force: the packet
// register tells the holders of packets with an older version.
func (s *Service) OnNewVersion(fn func(tx *gorm.DB, d *Document, v *Version) error) {
	s.newVersion = append(s.newVersion, fn)
}
