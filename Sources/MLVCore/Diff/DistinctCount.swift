// Exact distinct counts of a table diff's columns within a memory budget (`DistinctPool`,
// `DistinctCounter`: 128-bit hashes in memory, spilled to disk past the budget), and the hashes.
import MLVSystem
import Glibc
import MLVStore

/// Exact distinct counts for the columns of one diff, within a memory budget.
///
/// Each column keeps the 128-bit hashes (`cellHash128`: SipHash-2-4-128 under a random key) of
/// the values it has seen in an open-addressing table. Two different values count as one only
/// if their 128-bit hashes are equal: for n distinct values that happens with probability
/// below n²/2¹²⁹ (1.5e-25 for ten million values, 1.5e-15 for 10¹²), whatever the values (the
/// key is secret), far below the chance of a disk or memory error, so the count is reported
/// as exact. (A 64-bit hash would have given 2.7e-6 for ten million, and
/// exact bytes would cost the values' own size.)
///
/// The tables of all columns of a diff share `budget` bytes. When a table would grow past it,
/// the biggest tables are written to the pool's spill file (one for all columns: a table thousands of
/// columns wide must not hold a file descriptor per column) as a sorted run of unique hashes and
/// emptied; at the end each column's runs are merged (k-way, a buffer per run) and the
/// distinct hashes counted. Memory stays within the budget plus the merge buffers, whatever
/// the number of values; disk holds at most `maxSpillBytes` of runs for the whole diff.
/// A column whose run would pass that gives up exactness: its count is then the
/// HyperLogLog estimate every column keeps alongside (relative standard error
/// `HyperLogLog.relativeError`), reported as such (`distinct_exact: false`, `≈`).
final class DistinctPool {
    let budget: Int
    let maxSpillBytes: Int64
    let spillDirectory: String
    fileprivate var used = 0
    /// Bytes written to the spill file (runs of columns that gave up exactness included: the
    /// file only grows, so this is the disk it holds).
    fileprivate var spilled: Int64 = 0
    private var file: FileHandleFD? = nil
    /// Weak: the profiles own their counters, and a counter keeps its pool alive.
    private var counters: [WeakCounter] = []
    private struct WeakCounter { weak var counter: DistinctCounter? }

    /// Bytes of hash tables in memory for one diff (both sides, all columns): 32 MiB (more
    /// was slower, not faster: bigger tables miss the caches more than runs cost), or
    /// `MLV_DISTINCT_MEMORY` (bytes; tests set it low to make a small table spill).
    static var defaultBudget: Int { environmentBytes("MLV_DISTINCT_MEMORY") ?? (32 << 20) }
    /// Bytes of sorted runs on disk for one diff: 8 GiB (over 500 million distinct values
    /// across its columns), or `MLV_DISTINCT_SPILL` (bytes; tests set it low to reach the estimate).
    static var defaultMaxSpill: Int64 { Int64(environmentBytes("MLV_DISTINCT_SPILL") ?? (8 << 30)) }

    /// A byte count from the environment (the memory budgets' test knobs).
    static func environmentBytes(_ name: String) -> Int? {
        guard let v = getenv(name).map({ String(cString: $0) }), let n = Int(v), n >= 0 else { return nil }
        return n
    }

    init(budget: Int = DistinctPool.defaultBudget, maxSpillBytes: Int64 = DistinctPool.defaultMaxSpill, spillDirectory: String) {
        // At least room for every column's smallest table plus one growing one.
        self.budget = max(budget, 64 << 10)
        self.maxSpillBytes = maxSpillBytes
        self.spillDirectory = spillDirectory
    }

    func makeCounter() -> DistinctCounter {
        let c = DistinctCounter(pool: self)
        counters.removeAll { $0.counter == nil }
        counters.append(WeakCounter(counter: c))
        return c
    }

    /// The spill file, made on first use and unlinked at once: nothing is left behind if mlv
    /// is killed, and the space is freed when the pool goes.
    fileprivate func spillFile() throws -> FileHandleFD {
        if let file { return file }
        try? FS.makeDirectories(spillDirectory)
        let path = FS.join(spillDirectory, FS.scratchName(Store.TempKind.distinct.rawValue))
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw IOError("create", path) }
        unlink(path)
        let f = FileHandleFD(fd: fd, path: path)
        file = f
        return f
    }

    /// Writes tables out as runs, biggest first, until half the budget is free: the small
    /// tables of low-cardinality columns stay in memory (no run, and no reason to lose
    /// exactness at the disk limit).
    fileprivate func flush() throws {
        counters.removeAll { $0.counter == nil }
        let big = counters.compactMap(\.counter).filter { $0.count > 0 }.sorted { $0.capacity > $1.capacity }
        for c in big {
            if used <= budget / 2 { break }
            try c.spill()
        }
    }
}

/// One column's distinct values: see `DistinctPool`.
final class DistinctCounter {
    static let initialCapacity = 16
    private let pool: DistinctPool
    private var table: UnsafeMutablePointer<UInt128>
    fileprivate private(set) var capacity: Int
    fileprivate private(set) var count = 0
    /// This column's sorted runs in the pool's spill file.
    private var runs: [(offset: UInt64, count: Int)] = []
    private(set) var hll = HyperLogLog()
    /// False once the column's runs would pass the pool's disk limit: the count is then HyperLogLog's.
    private(set) var exact = true
    /// Sorted runs written so far (tests check that a small budget spills).
    var runCount: Int { runs.count }
    private var result: Int? = nil
    /// The first I/O error a spill met (reported when the count is asked for).
    private var failure: (any Error)? = nil

    fileprivate init(pool: DistinctPool) {
        self.pool = pool
        capacity = DistinctCounter.initialCapacity
        table = .allocate(capacity: capacity)
        table.initialize(repeating: 0, count: capacity)
        pool.used += capacity * MemoryLayout<UInt128>.stride
    }

    deinit {
        pending?.deallocate()
        table.deallocate()
        pool.used -= capacity * MemoryLayout<UInt128>.stride
    }

    /// Hashes waiting to be inserted, once the table is too big for the caches (see `add`).
    private var pending: UnsafeMutablePointer<UInt128>? = nil
    private var pendingCount = 0
    static let pendingCapacity = 512
    static let batchFrom = 1 << 16

    /// Adds one value, given its 128-bit hash, and for the HyperLogLog a hash of fixed seed
    /// (`murmur3`), so that an estimate is the same in every run (the 128-bit one is keyed afresh).
    @inline(__always) func add(_ h1: UInt64, _ h2: UInt64, estimateHash: UInt64? = nil) {
        hll.add(estimateHash ?? h1)
        guard exact else { return }
        // Zero marks an empty slot; the one value hashing to zero shares a slot with one.
        var key = UInt128(h1) << 64 | UInt128(h2)
        if key == 0 { key = 1 }
        // A big table misses the cache on every insert. Inserted one at a time between the
        // parsing of other cells, the misses wait one after the other; inserted in a batch,
        // the processor overlaps them (the 1M-row keyed diff benchmark: 5.0 s -> 3.9 s).
        if capacity >= DistinctCounter.batchFrom {
            let p = pending ?? UnsafeMutablePointer<UInt128>.allocate(capacity: DistinctCounter.pendingCapacity)
            pending = p
            p[pendingCount] = key
            pendingCount += 1
            if pendingCount == DistinctCounter.pendingCapacity { drain() }
            return
        }
        insert(key)
    }

    /// The first slot to probe for `key` in a table of `capacity` (a power of two): the top
    /// bits of the hash, so that slot order follows key order.
    @inline(__always) static func home(_ key: UInt128, _ capacity: Int) -> Int {
        Int(truncatingIfNeeded: key >> (128 - UInt128(capacity.trailingZeroBitCount))) & (capacity - 1)
    }

    /// Inserts the pending hashes.
    private func drain() {
        guard let p = pending, pendingCount > 0 else { return }
        let n = pendingCount
        pendingCount = 0
        for j in 0..<n {
            insert(p[j])
            if !exact { return }
        }
    }

    @inline(__always) private func insert(_ key: UInt128) {
        if place(key) && count * 10 > capacity * 7 { grow() }
    }

    /// Puts `key` in the table if it is not there (true then), without growing it.
    @inline(__always) private func place(_ key: UInt128) -> Bool {
        let mask = capacity - 1
        var i = DistinctCounter.home(key, capacity)
        while true {
            let k = table[i]
            if k == key { return false }
            if k == 0 { break }
            i = (i + 1) & mask
        }
        table[i] = key
        count += 1
        return true
    }

    private func grow() {
        let bytes = capacity * MemoryLayout<UInt128>.stride
        if pool.used + bytes > pool.budget {
            do {
                try pool.flush()
                // This table may not have been among those written out: it must not fill
                // up (a full table has no empty slot to end a probe). Grow it if there is
                // room now, else write it out too.
                if count * 10 <= capacity * 7 { return }
                if pool.used + bytes > pool.budget { try spill(); return }
            } catch {
                failure = failure ?? error
                giveUp()
                return
            }
        }
        rehash(to: capacity * 2)
    }

    private func rehash(to newCapacity: Int) {
        let old = table, oldCapacity = capacity
        table = .allocate(capacity: newCapacity)
        table.initialize(repeating: 0, count: newCapacity)
        capacity = newCapacity
        pool.used += (newCapacity - oldCapacity) * MemoryLayout<UInt128>.stride
        let mask = newCapacity - 1
        // Slots are homed by the hash's top bits, so the table holds its keys nearly in
        // order: a spill sorts them with an insertion sort in about linear time.
        for j in 0..<oldCapacity where old[j] != 0 {
            let k = old[j]
            var i = DistinctCounter.home(k, newCapacity)
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = k
        }
        old.deallocate()
    }

    /// Writes the table and the pending hashes as a sorted run of unique hashes to the spill
    /// file and empties both (the table back to its initial size). Pending hashes go into the
    /// run, not the table: inserting them could grow the table and start a flush inside this
    /// one. A run that would pass the pool's disk limit ends exactness instead.
    fileprivate func spill() throws {
        guard exact else { return }
        // The pending hashes fit without growing: a table with pending hashes has at least
        // 30 % of its 65,536 or more slots free.
        if let p = pending {
            for j in 0..<pendingCount { _ = place(p[j]) }
        }
        pendingCount = 0
        if count > 0 {
            // Compact the used slots to the front and sort them in place.
            var n = 0
            for j in 0..<capacity where table[j] != 0 { table[n] = table[j]; n += 1 }
            let run = UnsafeMutableBufferPointer(start: table, count: n)
            // Nearly sorted already (see `home`): each key moves a few places, except the
            // few that wrapped around the table's end.
            for j in 1..<max(1, n) {
                let v = run[j]
                var k = j
                while k > 0 && run[k - 1] > v { run[k] = run[k - 1]; k -= 1 }
                run[k] = v
            }
            var unique = 0
            for j in 0..<n where unique == 0 || run[j] != run[unique - 1] { run[unique] = run[j]; unique += 1 }
            let bytes = Int64(unique * MemoryLayout<UInt128>.stride)
            if pool.spilled + bytes > pool.maxSpillBytes { giveUp(); return }
            // Appended at the file's end: writes move the offset, the merge's preads do not.
            let f = try pool.spillFile()
            try f.write(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: run[0..<unique])))
            runs.append((UInt64(pool.spilled), unique))
            pool.spilled += bytes
        }
        resetTable()
    }

    private func resetTable() {
        table.deallocate()
        pool.used -= capacity * MemoryLayout<UInt128>.stride
        capacity = DistinctCounter.initialCapacity
        table = .allocate(capacity: capacity)
        table.initialize(repeating: 0, count: capacity)
        pool.used += capacity * MemoryLayout<UInt128>.stride
        count = 0
    }

    /// The exact count is out of reach: drop the table and the runs, keep HyperLogLog.
    private func giveUp() {
        exact = false
        pendingCount = 0
        resetTable()
        runs = []
    }

    /// The number of distinct values added (exact, or HyperLogLog's estimate when `exact` is false).
    func total() throws -> Int {
        if let failure { throw failure }
        if let result { return result }
        drain()
        guard exact else { return hll.estimate }
        let r: Int
        if runs.isEmpty {
            r = count
        } else {
            try spill()
            r = exact ? try mergeRuns() : hll.estimate
        }
        result = r
        return r
    }

    /// Distinct hashes over all runs: a k-way merge, each run read through its own buffer.
    private func mergeRuns() throws -> Int {
        let f = try pool.spillFile()
        let width = MemoryLayout<UInt128>.stride
        let perRun = max(256, pool.budget / width / max(1, runs.count))
        struct Cursor { var next: UInt64; var left: Int; var buf: [UInt128]; var pos: Int }
        var cursors: [Cursor] = []
        func refill(_ c: inout Cursor) throws {
            let n = min(perRun, c.left)
            c.buf = [UInt128](repeating: 0, count: n)
            let got = try c.buf.withUnsafeMutableBytes { try f.pread(into: $0, at: c.next) }
            guard got == n * width else { throw IOError("read", f.path, code: EIO) }
            c.next += UInt64(got)
            c.left -= n
            c.pos = 0
        }
        for r in runs where r.count > 0 {
            var c = Cursor(next: r.offset, left: r.count, buf: [], pos: 0)
            try refill(&c)
            cursors.append(c)
        }
        // A binary min-heap of cursor indices by their current value.
        var heap = Array(cursors.indices)
        func value(_ i: Int) -> UInt128 { cursors[i].buf[cursors[i].pos] }
        func down(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && value(heap[l]) < value(heap[m]) { m = l }
                if r < heap.count && value(heap[r]) < value(heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { down(i) }
        var distinct = 0
        var last: UInt128? = nil
        while let top = heap.first {
            let v = value(top)
            if v != last { distinct += 1; last = v }
            cursors[top].pos += 1
            if cursors[top].pos == cursors[top].buf.count {
                if cursors[top].left > 0 { try refill(&cursors[top]) } else {
                    heap[0] = heap[heap.count - 1]
                    heap.removeLast()
                }
            }
            if !heap.isEmpty { down(0) }
        }
        return distinct
    }
}

/// MurmurHash3 x64/128 (Austin Appleby's reference algorithm) of `v`.
@inline(__always) func murmur3(_ v: ArraySlice<UInt8>) -> (UInt64, UInt64) {
    v.withUnsafeBytes { murmur3($0) }
}

func murmur3(_ p: UnsafeRawBufferPointer, seed: UInt64 = 0x6d6c_76) -> (UInt64, UInt64) {
    @inline(__always) func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    @inline(__always) func fmix(_ x: UInt64) -> UInt64 {
        var k = x
        k ^= k >> 33; k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33; k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
    let c1: UInt64 = 0x87c3_7b91_1142_53d5, c2: UInt64 = 0x4cf5_ad43_2745_937f
    let len = p.count
    var h1 = seed, h2 = seed
    var off = 0
    while off + 16 <= len {
        var k1 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: off, as: UInt64.self))
        var k2 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: off + 8, as: UInt64.self))
        k1 = k1 &* c1; k1 = rotl(k1, 31); k1 = k1 &* c2; h1 ^= k1
        h1 = rotl(h1, 27); h1 = h1 &+ h2; h1 = h1 &* 5 &+ 0x52dc_e729
        k2 = k2 &* c2; k2 = rotl(k2, 33); k2 = k2 &* c1; h2 ^= k2
        h2 = rotl(h2, 31); h2 = h2 &+ h1; h2 = h2 &* 5 &+ 0x3849_5ab5
        off += 16
    }
    let rem = len - off
    if rem > 0 {
        var k1: UInt64 = 0, k2: UInt64 = 0
        for j in 0..<rem {
            let b = UInt64(p[off + j])
            if j < 8 { k1 |= b << UInt64(8 * j) } else { k2 |= b << UInt64(8 * (j - 8)) }
        }
        if rem > 8 { k2 = k2 &* c2; k2 = rotl(k2, 33); k2 = k2 &* c1; h2 ^= k2 }
        k1 = k1 &* c1; k1 = rotl(k1, 31); k1 = k1 &* c2; h1 ^= k1
    }
    h1 ^= UInt64(len); h2 ^= UInt64(len)
    h1 = h1 &+ h2; h2 = h2 &+ h1
    h1 = fmix(h1); h2 = fmix(h2)
    h1 = h1 &+ h2; h2 = h2 &+ h1
    return (h1, h2)
}

/// SipHash-2-4 with 128-bit output (Aumasson and Bernstein's reference) of `p` under the key
/// (k0, k1); the first word is the digest's first 8 bytes read little-endian.
func siphash128(_ p: UnsafeRawBufferPointer, k0: UInt64, k1: UInt64) -> (UInt64, UInt64) {
    var s = SipState(v0: 0x736f_6d65_7073_6575 ^ k0, v1: 0x646f_7261_6e64_6f6d ^ k1 ^ 0xee,
                     v2: 0x6c79_6765_6e65_7261 ^ k0, v3: 0x7465_6462_7974_6573 ^ k1)
    let len = p.count
    var off = 0
    while off + 8 <= len {
        let m = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: off, as: UInt64.self))
        s.v3 ^= m; s.round(); s.round(); s.v0 ^= m
        off += 8
    }
    var b = UInt64(truncatingIfNeeded: len) << 56
    for j in 0..<(len - off) { b |= UInt64(p[off + j]) << UInt64(8 * j) }
    s.v3 ^= b; s.round(); s.round(); s.v0 ^= b
    s.v2 ^= 0xee
    s.round(); s.round(); s.round(); s.round()
    let h0 = s.v0 ^ s.v1 ^ s.v2 ^ s.v3
    s.v1 ^= 0xdd
    s.round(); s.round(); s.round(); s.round()
    return (h0, s.v0 ^ s.v1 ^ s.v2 ^ s.v3)
}

/// SipHash's four words (a struct, not captured locals: no closure boxes in the hot loop).
private struct SipState {
    var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64

    @inline(__always) mutating func round() {
        v0 = v0 &+ v1; v1 = v1.rotl(13); v1 ^= v0; v0 = v0.rotl(32)
        v2 = v2 &+ v3; v3 = v3.rotl(16); v3 ^= v2
        v0 = v0 &+ v3; v3 = v3.rotl(21); v3 ^= v0
        v2 = v2 &+ v1; v1 = v1.rotl(17); v1 ^= v2; v2 = v2.rotl(32)
    }
}

private extension UInt64 {
    @inline(__always) func rotl(_ r: UInt64) -> UInt64 { (self << r) | (self >> (64 - r)) }
}

/// A cell's 128-bit identity for distinct counts and drift categories, where keeping the
/// bytes of every distinct value would cost their own size: SipHash-2-4-128 under a key drawn
/// at random for each run of mlv. SipHash is a pseudorandom function: without the key, no one
/// can choose values that collide more often than random ones do (MurmurHash3, used before,
/// has published seed-independent collisions, so a crafted file could make two different
/// values count as one). Two of n distinct values then collide with probability below
/// n²/2¹²⁹ (1.5e-25 for ten million values), far below a disk or memory error: the count is
/// reported as exact. Rows and cells compared between versions never rely on a hash (bytes
/// are compared: see `RowMatcher`).
@inline(__always) func cellHash128(_ v: ArraySlice<UInt8>) -> (UInt64, UInt64) {
    v.withUnsafeBytes { siphash128($0, k0: cellHashKey.0, k1: cellHashKey.1) }
}

let cellHashKey: (UInt64, UInt64) = {
    var g = SystemRandomNumberGenerator()
    return (g.next(), g.next())
}()
