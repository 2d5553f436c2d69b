package s3gw

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
)

// partRange is the byte range of part n (1-based) of an object: of a
// multipart object, that part; of any other, part 1 is the whole object.
// A part the object does not have is InvalidPartNumber (416). An empty
// range (an empty object or part) is nil.
func partRange(info ObjectInfo, n int) (*byteRange, error) {
	if info.PartsCount > 0 && len(info.PartSizes) != info.PartsCount {
		return nil, errNotImplemented.withMessage("This store does not record the parts of multipart objects.")
	}
	sizes := info.PartSizes
	if info.PartsCount == 0 {
		sizes = []int64{info.Size}
	}
	if n > len(sizes) {
		return nil, errInvalidPartNumber
	}
	var start int64
	for _, s := range sizes[:n-1] {
		start += s
	}
	if sizes[n-1] == 0 {
		return nil, nil
	}
	return &byteRange{start, sizes[n-1]}, nil
}

// objectAttributes are the names x-amz-object-attributes may list.
var objectAttributes = []string{"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}

// getObjectAttributes answers GET ?attributes: the attributes that
// x-amz-object-attributes names, in one document. Checksum is left out:
// Cairn verifies x-amz-checksum-* on upload but does not store them.
// ObjectParts is given for multipart objects only, as on S3, paged by
// x-amz-max-parts and x-amz-part-number-marker.
func (s *Server) getObjectAttributes(w http.ResponseWriter, r *http.Request, o *op) error {
	want := map[string]bool{}
	for _, v := range r.Header.Values("X-Amz-Object-Attributes") {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if !slices.Contains(objectAttributes, a) {
				return errInvalidArgument.withMessage("Invalid attribute name specified.")
			}
			want[a] = true
		}
	}
	if len(want) == 0 {
		return errInvalidRequest.withMessage("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	maxParts, err := intParam(r.Header.Get("X-Amz-Max-Parts"), maxListKeys, "max-parts")
	if err != nil {
		return err
	}
	marker, err := intParam(r.Header.Get("X-Amz-Part-Number-Marker"), 0, "part-number-marker")
	if err != nil {
		return err
	}
	obj, err := s.getVersion(r, o)
	if err != nil {
		return err
	}
	info := obj.Info()
	_, ck, err := s.readSSE(r, info)
	if err != nil {
		return err
	}
	out := objectAttributesResult{}
	if want["ETag"] {
		out.ETag = unquoteETag(info.ETag) // unquoted here, as S3 sends it
	}
	if want["StorageClass"] {
		out.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		size := info.Size
		out.ObjectSize = &size
	}
	if want["ObjectParts"] && info.PartsCount > 0 {
		if len(info.PartSizes) != info.PartsCount {
			return errNotImplemented.withMessage("This store does not record the parts of multipart objects.")
		}
		maxParts = min(maxParts, maxListKeys)
		parts := &objectPartsXML{PartsCount: info.PartsCount, PartNumberMarker: marker, MaxParts: maxParts}
		for n := marker + 1; n <= len(info.PartSizes); n++ {
			if len(parts.Parts) == maxParts {
				parts.IsTruncated = true
				break
			}
			parts.Parts = append(parts.Parts, attributesPartXML{PartNumber: n, Size: info.PartSizes[n-1]})
			parts.NextPartNumberMarker = n
		}
		out.ObjectParts = parts
	}
	w.Header().Set("Last-Modified", httpTime(info.LastModified))
	if info.VersionID != "" {
		w.Header().Set("x-amz-version-id", info.VersionID)
	}
	setSSEHeaders(w, info.SSE, ck)
	return writeXML(w, http.StatusOK, out)
}

type objectAttributesResult struct {
	XMLName      xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ GetObjectAttributesResponse"`
	ETag         string          `xml:"ETag,omitempty"`
	ObjectParts  *objectPartsXML `xml:"ObjectParts,omitempty"`
	StorageClass string          `xml:"StorageClass,omitempty"`
	ObjectSize   *int64          `xml:"ObjectSize,omitempty"`
}

type objectPartsXML struct {
	IsTruncated          bool                `xml:"IsTruncated"`
	MaxParts             int                 `xml:"MaxParts"`
	NextPartNumberMarker int                 `xml:"NextPartNumberMarker"`
	PartNumberMarker     int                 `xml:"PartNumberMarker"`
	Parts                []attributesPartXML `xml:"Part"`
	PartsCount           int                 `xml:"PartsCount"`
}

type attributesPartXML struct {
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
}
