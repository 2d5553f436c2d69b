package placement

import "math"

// ln is the natural logarithm for normal x > 0 (placement never passes
// anything else: its variates lie in [2^-61, 1)), written so that it returns
// the same bits on every platform.
//
// math.Log does not promise that: on amd64 it is assembly, elsewhere it is
// Go code that the compiler may contract into fused multiply-adds (the spec
// allows it, and arm64, ppc64 and s390x do it), so two gateways on
// different hardware could round a score differently and, once in a very
// long while, disagree about a placement. Here every product that meets an
// addition is rounded by an explicit float64 conversion, which the spec
// says forbids fusion; everything else is IEEE-754 arithmetic, which is
// exact-rounded everywhere. The algorithm and constants are those of
// FreeBSD's e_log.c (also the portable math.Log); the error is below 1 ulp.
func ln(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 /* 3fe62e42 fee00000 */
		ln2Lo = 1.90821492927058770002e-10 /* 3dea39ef 35793c76 */
		l1    = 6.666666666666735130e-01   /* 3FE55555 55555593 */
		l2    = 3.999999999940941908e-01   /* 3FD99999 9997FA04 */
		l3    = 2.857142874366239149e-01   /* 3FD24924 94229359 */
		l4    = 2.222219843214978396e-01   /* 3FCC71C5 1D8E78AF */
		l5    = 1.818357216161805012e-01   /* 3FC74664 96CB03DE */
		l6    = 1.531383769920937332e-01   /* 3FC39A09 D078C69F */
		l7    = 1.479819860511658591e-01   /* 3FC2F112 DF3E5244 */
	)
	// x = f1 * 2^ki with f1 in [0.5, 1), by taking the bits apart (exact).
	b := math.Float64bits(x)
	ki := int(b>>52&0x7ff) - 1022
	f1 := math.Float64frombits(b&^(0x7ff<<52) | 1022<<52)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1 // exact
	k := float64(ki)

	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * (l1 + float64(s4*(l3+float64(s4*(l5+float64(s4*l7)))))))
	t2 := float64(s4 * (l2 + float64(s4*(l4+float64(s4*l6)))))
	r := t1 + t2
	hfsq := float64(0.5 * float64(f*f))
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}
