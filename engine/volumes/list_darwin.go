package volumes

import (
	"os"
	"path/filepath"
)

func defaultMediaRoots() []string { return []string{"/Volumes"} }

// list reads /Volumes: every mounted disk appears there, the startup
// disk as a link to "/".
func list(o Options) ([]Volume, error) {
	var out []Volume
	for _, root := range o.mediaRoots() {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := filepath.Join(root, e.Name())
			total, free, err := o.SpaceAt(p)
			if err != nil {
				continue
			}
			v := Volume{Path: p, Label: e.Name(), Total: total, Free: free, External: true}
			if t, err := filepath.EvalSymlinks(p); err == nil && t == "/" {
				v.System, v.External = true, false
			}
			out = append(out, v)
		}
	}
	return out, nil
}
