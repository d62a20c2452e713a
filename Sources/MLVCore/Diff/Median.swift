// Exact medians within a memory budget: the pool one diff shares (`MedianPool`), a column's
// kept values (`ExactMedian`), and the selection that finds the middle (quickselect, with
// Python's rounding of the midpoint of two integers).
import Glibc

/// Memory for the exact medians of one diff (both sides, all columns): 128 MiB of values
/// (8 bytes each: 16 million values, so that both sides of a 1,000,000-row table with 10
/// numeric columns stay exact, for about 100 MiB more than estimates), or `MLV_MEDIAN_MEMORY`
/// (bytes; tests set it low).
final class MedianPool {
    let budget: Int
    fileprivate var used = 0

    static var defaultBudget: Int { DistinctPool.environmentBytes("MLV_MEDIAN_MEMORY") ?? (128 << 20) }

    init(budget: Int = MedianPool.defaultBudget) { self.budget = budget }
}

/// Every numeric value of a column, for its exact median: exact Int64s while every value is
/// one (the midpoint of two huge ids is then exact), doubles from the first value that is
/// not. Storage is taken from the `MedianPool` as the array grows; a column whose growth
/// does not fit gives its memory back and keeps nothing more (`kept` false): its median is
/// then the reservoir's. Values arrive in file order, so which column gives up is the same
/// on every run.
struct ExactMedian {
    private let pool: MedianPool
    private var ints: [Int64] = []
    private var doubles: [Double]? = nil
    /// Bytes of capacity taken from the pool.
    private var reserved = 0
    private(set) var kept = true
    /// Set by `finish()`: the median, the values dropped.
    private var finished: Double?? = nil

    init(pool: MedianPool) { self.pool = pool }

    mutating func add(_ x: Double, exact: Int64?) {
        guard kept, finished == nil else { return }
        if doubles == nil && exact == nil {
            // The first value that is no Int64: the integers so far become doubles (as
            // Python's median compares them with floats), in the same capacity.
            var d: [Double] = []
            d.reserveCapacity(ints.capacity)
            for i in ints { d.append(Double(i)) }
            ints = []
            doubles = d
        }
        let count = doubles?.count ?? ints.count
        let capacity = doubles?.capacity ?? ints.capacity
        if count == capacity {
            // Grow by half (not the array's doubling): less slack counted against the budget.
            let want = max(1024, capacity + capacity / 2)
            let extra = (want - capacity) * 8
            guard pool.used + extra <= pool.budget else { giveUp(); return }
            if doubles != nil { doubles!.reserveCapacity(want) } else { ints.reserveCapacity(want) }
            let got = (doubles?.capacity ?? ints.capacity) * 8
            pool.used += got - reserved
            reserved = got
        }
        if doubles != nil { doubles!.append(x) } else if let exact { ints.append(exact) }
    }

    private mutating func giveUp() {
        kept = false
        release()
    }

    private mutating func release() {
        pool.used -= reserved
        reserved = 0
        ints = []
        doubles = nil
    }

    /// Takes the median in place (no copy of the values) and gives their memory back.
    mutating func finish() {
        guard kept, finished == nil else { return }
        if doubles != nil { finished = .some(Self.median(&doubles!)) } else { finished = .some(medianOfIntegers(&ints)) }
        release()
    }

    private static func median(_ xs: inout [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let (lower, upper) = middle(&xs)
        return (lower + upper) / 2
    }

    /// The median of the values kept, as Python's `statistics.median` gives it; nil when
    /// none or when the column gave up.
    var median: Double? {
        guard kept else { return nil }
        if let finished { return finished }
        if var d = doubles { return Self.median(&d) }
        var i = ints
        return medianOfIntegers(&i)
    }
}

/// The median of exact integers as Python's `statistics.median` gives it: the middle one, or
/// for an even count the correctly rounded midpoint (Double(a + b) is correctly rounded, and
/// halving it is exact).
func medianOfIntegers(_ xs: inout [Int64]) -> Double? {
    guard !xs.isEmpty else { return nil }
    let (lower, upper) = middle(&xs)
    return Double(Int128(lower) + Int128(upper)) / 2
}

/// The two middle values of `a` (the same one twice for an odd count), rearranging it.
func middle<T: Comparable>(_ a: inout [T]) -> (T, T) {
    let k = a.count / 2
    let upper = select(&a, k)
    if a.count % 2 == 1 { return (upper, upper) }
    // Everything before position k is now at most a[k]: the lower middle is their largest.
    var lower = a[0]
    for x in a[1..<k] where x > lower { lower = x }
    return (lower, upper)
}

/// The k-th smallest value of `a` (from 0), leaving smaller ones before position k and larger
/// ones after it: quickselect around the median of three, O(n) on typical data. Past an
/// iteration limit (an input built against the pivots) the rest is sorted, so the worst case
/// stays O(n log n). No randomness: the same input gives the same figure.
func select<T: Comparable>(_ a: inout [T], _ k: Int) -> T {
    var lo = 0, hi = a.count - 1
    var rounds = 4 * (Int.bitWidth - a.count.leadingZeroBitCount) + 16
    while hi > lo {
        if rounds == 0 { a[lo...hi].sort(); break }
        rounds -= 1
        let mid = lo + (hi - lo) / 2
        if a[mid] < a[lo] { a.swapAt(mid, lo) }
        if a[hi] < a[lo] { a.swapAt(hi, lo) }
        if a[hi] < a[mid] { a.swapAt(hi, mid) }
        let pivot = a[mid]
        var i = lo, j = hi
        while i <= j {
            while a[i] < pivot { i += 1 }
            while pivot < a[j] { j -= 1 }
            if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
        }
        // Now a[lo...j] <= pivot <= a[i...hi], and what lies between equals the pivot.
        if k <= j { hi = j } else if k >= i { lo = i } else { break }
    }
    return a[k]
}
