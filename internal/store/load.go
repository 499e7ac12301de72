package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// load opens every index and partition under dir/indices.
func (s *Store) load() error {
	root := filepath.Join(s.dir, indicesDir)
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, ent := range ents {
		name := ent.Name()
		if !ent.IsDir() {
			continue
		}
		if err := ValidateIndexName(name); err != nil {
			s.log.Warn("store: ignoring a directory that is not an index", "path", filepath.Join(root, name), "err", err)
			continue
		}
		idx := s.newIndex(name)
		idx.dirReady.Store(true)
		s.indices[name] = idx
		days, err := os.ReadDir(idx.dir)
		if err != nil {
			return err
		}
		for _, d := range days {
			day, ok := parseDayName(d.Name())
			if !ok || !d.IsDir() {
				s.log.Warn("store: ignoring an entry that is not a day partition", "path", filepath.Join(idx.dir, d.Name()))
				continue
			}
			p, err := s.loadPartition(idx, day)
			if err != nil {
				return fmt.Errorf("open partition %s: %w", filepath.Join(idx.dir, d.Name()), err)
			}
			if p != nil {
				idx.parts[day] = p
			}
		}
	}
	return nil
}

// loadPartition recovers and opens one partition. It returns nil for a
// partition left without parts (its directory is removed).
func (s *Store) loadPartition(idx *index, day int64) (*partition, error) {
	p := &partition{idx: idx, day: day, dir: filepath.Join(idx.dir, dayName(day)), dirReady: true}
	os.Remove(filepath.Join(p.dir, partsTemp))
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, err
	}
	dirs := make(map[uint64]bool)
	var maxNum uint64
	for _, e := range ents {
		name := e.Name()
		switch {
		case name == partsFile:
		case strings.HasPrefix(name, tmpPrefix):
			// An interrupted flush or merge.
			if err := os.RemoveAll(filepath.Join(p.dir, name)); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, corruptExt):
		default:
			num, err := strconv.ParseUint(name, 16, 64)
			if err != nil || len(name) != 16 || !e.IsDir() {
				s.log.Warn("store: ignoring an unknown entry in a partition", "path", filepath.Join(p.dir, name))
				continue
			}
			dirs[num] = true
			maxNum = max(maxNum, num)
		}
	}

	var nums []uint64
	rewrite := false
	b, err := os.ReadFile(filepath.Join(p.dir, partsFile))
	var list partList
	if err == nil {
		list, err = parsePartList(b)
	}
	switch {
	case err == nil:
		nums = list.nums
		for num := range dirs {
			if !slices.Contains(nums, num) {
				// Written by a flush or merge whose list was never
				// published, or merged away and not yet deleted.
				if err := os.RemoveAll(filepath.Join(p.dir, partName(num))); err != nil {
					return nil, err
				}
			}
		}
	case errors.Is(err, fs.ErrNotExist) && len(dirs) == 0:
	default:
		// No readable list, yet part directories: load every one that
		// opens. Parts merged away but not yet deleted come back as
		// duplicates; nothing is lost.
		s.c.badPartLists.Add(1)
		s.log.Error("store: a partition's parts list is missing or unreadable; loading every part directory (events may appear twice)",
			"path", filepath.Join(p.dir, partsFile), "err", err)
		for num := range dirs {
			nums = append(nums, num)
		}
		slices.Sort(nums)
		rewrite = true
	}
	p.next = max(list.next, maxNum+1, 1)
	for _, num := range nums {
		dir := filepath.Join(p.dir, partName(num))
		if !dirs[num] {
			s.c.missingParts.Add(1)
			s.log.Error("store: a part named by the parts list is missing; its events are lost", "path", dir)
			rewrite = true
			continue
		}
		pt, err := openPart(dir, num, s.zdec)
		var ce *CorruptError
		if err != nil && !errors.As(err, &ce) && !errors.Is(err, fs.ErrNotExist) {
			// Not the part's fault (too many open files, permissions...):
			// fail rather than set a good part aside.
			for _, pt := range p.parts {
				pt.release()
			}
			return nil, err
		}
		if err != nil {
			s.c.corruptParts.Add(1)
			s.log.Error("store: cannot open a part; setting it aside as .corrupt and going on without it", "path", dir, "err", err)
			if rerr := os.Rename(dir, dir+corruptExt); rerr != nil {
				return nil, rerr
			}
			rewrite = true
			continue
		}
		p.parts = append(p.parts, pt)
	}
	if rewrite {
		l := partList{next: p.next}
		for _, pt := range p.parts {
			l.nums = append(l.nums, pt.num)
		}
		if _, err := writePartList(p.dir, &l); err != nil {
			for _, pt := range p.parts {
				pt.release()
			}
			return nil, err
		}
	}
	if len(p.parts) == 0 {
		if !rewrite {
			// Nothing was ever published here: remove the leftovers.
			os.RemoveAll(p.dir)
		}
		return nil, nil
	}
	return p, nil
}

// emptyTrash removes what DeleteIndex and retention left in the trash
// (after a crash: they remove it themselves otherwise).
func (s *Store) emptyTrash() {
	dir := filepath.Join(s.dir, trashDir)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			s.log.Warn("store: cannot empty the trash", "path", filepath.Join(dir, e.Name()), "err", err)
		}
	}
}

// moveToTrash renames path into the trash directory, which removes it
// from the store atomically, and makes that durable. It returns the path
// in the trash ("" if path did not exist), for removeTrash.
func (s *Store) moveToTrash(path string) (string, error) {
	dst := filepath.Join(s.dir, trashDir, fmt.Sprintf("%d-%d", os.Getpid(), s.trashSeq.Add(1)))
	if err := os.Rename(path, dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		s.log.Warn("store: cannot sync a directory after a removal", "err", err)
	}
	return dst, nil
}

// removeTrash deletes what moveToTrash moved (files still open by running
// searches stay readable until closed).
func (s *Store) removeTrash(path string) {
	if path == "" {
		return
	}
	if err := os.RemoveAll(path); err != nil {
		s.log.Warn("store: cannot empty the trash", "path", path, "err", err)
	}
}
