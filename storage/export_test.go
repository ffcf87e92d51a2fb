package storage

// failCommitsWith makes every later commit report err after bbolt's own
// commit succeeded, as a sync error after the pages reached the file would.
func (s *Store) failCommitsWith(err error) { s.w.commitErr.Store(&err) }
