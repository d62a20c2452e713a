import Testing
@testable import MLVCore

/// `select` and `middle` against a full sort, on inputs that stress quickselect: duplicates,
/// sorted and reversed runs, organ pipes, and a budget of one value per column.
@Suite struct MedianSelectTests {
    @Test func selectAgreesWithSorting() {
        var state: UInt64 = 42
        func next(_ n: Int) -> Int64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int64((state >> 33) % UInt64(n))
        }
        var inputs: [[Int64]] = [[7], [2, 1], [3, 3, 3, 3], Array(0..<1000), Array((0..<1000).reversed()),
                                 (0..<1001).map { Int64(min($0, 1000 - $0)) }]
        for n in [2, 3, 10, 101, 4096, 10_001] { inputs.append((0..<n).map { _ in next(n < 100 ? 3 : n) }) }
        for xs in inputs {
            let sorted = xs.sorted()
            for k in Set([0, xs.count / 2, xs.count - 1, (xs.count - 1) / 2]) {
                var a = xs
                #expect(select(&a, k) == sorted[k], "k \(k) of \(xs.count)")
                #expect(a[..<k].allSatisfy { $0 <= sorted[k] } && a[(k + 1)...].allSatisfy { $0 >= sorted[k] })
            }
            var a = xs
            let (lo, hi) = middle(&a)
            #expect(lo == sorted[(xs.count - 1) / 2] && hi == sorted[xs.count / 2])
        }
    }

    @Test func aColumnPastTheBudgetGivesUpAndFreesItsShare() {
        let pool = MedianPool(budget: 8192 * 8)
        var a = ExactMedian(pool: pool), b = ExactMedian(pool: pool)
        for i in (0..<5000).reversed() { a.add(Double(i), exact: Int64(i)) }
        for i in 0..<20_000 { b.add(Double(i) / 2, exact: nil) }
        #expect(a.kept && a.median == 2499.5)
        #expect(!b.kept && b.median == nil)
        // b's memory went back: another column can still keep its values.
        var c = ExactMedian(pool: pool)
        for i in 0..<1001 { c.add(Double(i) + 0.5, exact: nil) }
        #expect(c.kept && c.median == 500.5)
        c.finish()
        #expect(c.kept && c.median == 500.5)
    }
}
