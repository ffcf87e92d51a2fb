package outbox

import "cardflow/storage"

// laneHeap orders idle lanes by their head event's NextAt, then sequence.
type laneHeap []*lane

func (h laneHeap) Len() int           { return len(h) }
func (h laneHeap) Less(i, j int) bool { return before(h[i].events[0], h[j].events[0]) }

// headBefore reports whether h's first lane is due before o's (both non-empty).
func (h laneHeap) headBefore(o laneHeap) bool { return before(h[0].events[0], o[0].events[0]) }

func before(a, b *storage.Event) bool {
	if !a.NextAt.Equal(b.NextAt) {
		return a.NextAt.Before(b.NextAt)
	}
	return a.Seq < b.Seq
}
func (h laneHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *laneHeap) Push(x any) {
	l := x.(*lane)
	l.index = len(*h)
	*h = append(*h, l)
}
func (h *laneHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	l.index = -1
	*h = old[:len(old)-1]
	return l
}
