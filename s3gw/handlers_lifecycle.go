package s3gw

import (
	"encoding/xml"
	"net/http"
	"time"
)

type lifecycleFilterXML struct {
	Prefix *string       `xml:"Prefix"`
	Tag    *bucketTagXML `xml:"Tag"`
	And    *andXML       `xml:"And"`
	Size   *xmlSkip      `xml:"ObjectSizeGreaterThan"`
}

type andXML struct {
	Prefix string         `xml:"Prefix,omitempty"`
	Tags   []bucketTagXML `xml:"Tag"`
}

type xmlSkip struct {
	Inner string `xml:",innerxml"`
}

type lifecycleRuleXML struct {
	ID         string              `xml:"ID,omitempty"`
	Filter     *lifecycleFilterXML `xml:"Filter,omitempty"`
	Prefix     *string             `xml:"Prefix"`
	Status     string              `xml:"Status"`
	Expiration *struct {
		Days                      int    `xml:"Days,omitempty"`
		Date                      string `xml:"Date,omitempty"`
		ExpiredObjectDeleteMarker bool   `xml:"ExpiredObjectDeleteMarker,omitempty"`
	} `xml:"Expiration,omitempty"`
	NoncurrentVersionExpiration *struct {
		NoncurrentDays          int `xml:"NoncurrentDays"`
		NewerNoncurrentVersions int `xml:"NewerNoncurrentVersions,omitempty"`
	} `xml:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *struct {
		DaysAfterInitiation int `xml:"DaysAfterInitiation"`
	} `xml:"AbortIncompleteMultipartUpload,omitempty"`
	Transitions           []xmlSkip `xml:"Transition"`
	NoncurrentTransitions []xmlSkip `xml:"NoncurrentVersionTransition"`
}

type lifecycleXML struct {
	XMLName xml.Name
	Rules   []lifecycleRuleXML `xml:"Rule"`
}

var errInvalidLifecycle = errMalformedXML

func (s *Server) getBucketLifecycle(w http.ResponseWriter, r *http.Request, o *op) error {
	cfg, err := s.bucketConfig(r, o)
	if err != nil {
		return err
	}
	if len(cfg.Lifecycle) == 0 {
		return ErrNoSuchLifecycle
	}
	out := lifecycleXML{XMLName: s3Name("LifecycleConfiguration")}
	for _, rl := range cfg.Lifecycle {
		x := lifecycleRuleXML{ID: rl.ID, Status: "Disabled", Filter: &lifecycleFilterXML{}}
		if rl.Enabled {
			x.Status = "Enabled"
		}
		switch {
		case len(rl.Tags) == 0:
			p := rl.Prefix
			x.Filter.Prefix = &p
		case len(rl.Tags) == 1 && rl.Prefix == "":
			t := bucketTagXML(rl.Tags[0])
			x.Filter.Tag = &t
		default:
			and := &andXML{Prefix: rl.Prefix}
			for _, t := range rl.Tags {
				and.Tags = append(and.Tags, bucketTagXML(t))
			}
			x.Filter.And = and
		}
		if rl.ExpirationDays > 0 || !rl.ExpirationDate.IsZero() || rl.ExpiredObjectDeleteMarker {
			x.Expiration = &struct {
				Days                      int    `xml:"Days,omitempty"`
				Date                      string `xml:"Date,omitempty"`
				ExpiredObjectDeleteMarker bool   `xml:"ExpiredObjectDeleteMarker,omitempty"`
			}{Days: rl.ExpirationDays, ExpiredObjectDeleteMarker: rl.ExpiredObjectDeleteMarker}
			if !rl.ExpirationDate.IsZero() {
				x.Expiration.Date = rl.ExpirationDate.UTC().Format(time.RFC3339)
			}
		}
		if rl.NoncurrentDays > 0 {
			x.NoncurrentVersionExpiration = &struct {
				NoncurrentDays          int `xml:"NoncurrentDays"`
				NewerNoncurrentVersions int `xml:"NewerNoncurrentVersions,omitempty"`
			}{rl.NoncurrentDays, rl.NewerNoncurrent}
		}
		if rl.AbortMultipartDays > 0 {
			x.AbortIncompleteMultipartUpload = &struct {
				DaysAfterInitiation int `xml:"DaysAfterInitiation"`
			}{rl.AbortMultipartDays}
		}
		out.Rules = append(out.Rules, x)
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) putBucketLifecycle(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	var req lifecycleXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	rules, err := parseLifecycle(&req)
	if err != nil {
		return err
	}
	if err := vb.SetBucketLifecycle(r.Context(), o.bucket, rules); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// parseLifecycle checks a lifecycle configuration as S3 does, for the
// actions Cairn takes (transitions are refused: there is one storage
// class).
func parseLifecycle(req *lifecycleXML) ([]LifecycleRule, error) {
	if len(req.Rules) == 0 || len(req.Rules) > 1000 {
		return nil, errMalformedXML
	}
	ids := map[string]bool{}
	var out []LifecycleRule
	for _, x := range req.Rules {
		if len(x.Transitions) > 0 || len(x.NoncurrentTransitions) > 0 {
			return nil, errNotImplemented.withMessage("Lifecycle transitions are not implemented: Cairn has one storage class.")
		}
		if len(x.ID) > 255 {
			return nil, errInvalidArgument.withMessage("ID length should not exceed allowed limit of 255")
		}
		if x.ID != "" && ids[x.ID] {
			return nil, errInvalidArgument.withMessage("Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[x.ID] = true
		rl := LifecycleRule{ID: x.ID}
		switch x.Status {
		case "Enabled":
			rl.Enabled = true
		case "Disabled":
		default:
			return nil, errMalformedXML
		}
		if x.Filter != nil && x.Prefix != nil {
			return nil, errMalformedXML
		}
		if x.Prefix != nil {
			rl.Prefix = *x.Prefix
		}
		if f := x.Filter; f != nil {
			n := 0
			if f.Prefix != nil {
				rl.Prefix = *f.Prefix
				n++
			}
			if f.Tag != nil {
				rl.Tags = []Tag{Tag(*f.Tag)}
				n++
			}
			if f.And != nil {
				rl.Prefix = f.And.Prefix
				for _, t := range f.And.Tags {
					rl.Tags = append(rl.Tags, Tag(t))
				}
				n++
			}
			if f.Size != nil {
				return nil, errNotImplemented.withMessage("Lifecycle filters by object size are not implemented.")
			}
			if n > 1 {
				return nil, errMalformedXML
			}
		}
		actions := 0
		if e := x.Expiration; e != nil {
			set := 0
			if e.Days != 0 {
				if e.Days < 0 {
					return nil, errInvalidArgument.withMessage("'Days' for Expiration action must be a positive integer")
				}
				rl.ExpirationDays = e.Days
				set++
			}
			if e.Date != "" {
				t, err := time.Parse(time.RFC3339, e.Date)
				if err != nil || !t.Equal(t.Truncate(24*time.Hour)) {
					return nil, errInvalidArgument.withMessage("'Date' must be at midnight GMT")
				}
				rl.ExpirationDate = t.UTC()
				set++
			}
			if e.ExpiredObjectDeleteMarker {
				if len(rl.Tags) > 0 {
					return nil, errInvalidArgument.withMessage("ExpiredObjectDeleteMarker cannot be specified with object tags")
				}
				rl.ExpiredObjectDeleteMarker = true
				set++
			}
			if set != 1 {
				return nil, errMalformedXML
			}
			actions++
		}
		if nc := x.NoncurrentVersionExpiration; nc != nil {
			if nc.NoncurrentDays <= 0 {
				return nil, errInvalidArgument.withMessage("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
			}
			rl.NoncurrentDays, rl.NewerNoncurrent = nc.NoncurrentDays, nc.NewerNoncurrentVersions
			actions++
		}
		if a := x.AbortIncompleteMultipartUpload; a != nil {
			if a.DaysAfterInitiation <= 0 {
				return nil, errInvalidArgument.withMessage("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
			}
			if len(rl.Tags) > 0 {
				return nil, errInvalidArgument.withMessage("AbortIncompleteMultipartUpload cannot be specified with Tags.")
			}
			rl.AbortMultipartDays = a.DaysAfterInitiation
			actions++
		}
		if actions == 0 {
			return nil, errInvalidLifecycle.withMessage("At least one action needs to be specified in a rule")
		}
		out = append(out, rl)
	}
	return out, nil
}

func (s *Server) deleteBucketLifecycle(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	if err := vb.SetBucketLifecycle(r.Context(), o.bucket, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
