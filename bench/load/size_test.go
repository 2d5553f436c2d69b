package load

import "testing"

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "4096", want: 4096},
		{in: "4KiB", want: 4 << 10},
		{in: "4kib", want: 4 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "64MiB", want: 64 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "1.5GiB", want: 3 << 29},
		{in: " 2 MiB ", want: 2 << 20},
		{in: "512k", want: 512 << 10},
		{in: "8M", want: 8 << 20},
		{in: "100MB", want: 100e6},
		{in: "1KB", want: 1000},
		{in: "10B", want: 10},
		{in: "1TiB", want: 1 << 40},
		{in: "", bad: true},
		{in: "MiB", bad: true},
		{in: "-1KiB", bad: true},
		{in: "1XB", bad: true},
		{in: "abc", bad: true},
		{in: "9999999TiB", bad: true},
		{in: "NaN", bad: true},
	} {
		got, err := ParseSize(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want string
	}{
		{0, "0B"}, {1000, "1000B"}, {4 << 10, "4KiB"}, {1 << 20, "1MiB"},
		{64 << 20, "64MiB"}, {1 << 30, "1GiB"}, {3 << 29, "1.50GiB"},
	} {
		if got := FormatSize(c.in); got != c.want {
			t.Errorf("FormatSize(%d) = %q, want %q", c.in, got, c.want)
		}
		if c.in > 0 {
			if back, err := ParseSize(FormatSize(c.in)); err != nil || back != c.in {
				t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", c.in, back, err)
			}
		}
	}
}
