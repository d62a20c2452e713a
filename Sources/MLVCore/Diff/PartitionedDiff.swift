// Matching the rows of two tables (`RowMatcher`, `matchRows`): keyed or as a multiset, in
// memory or spilled to partitions on disk for big tables.
import MLVSystem
import Glibc
import MLVStore

/// Rows of a table diff: counts and the row numbers / values of the samples.
struct PartitionedResult {
    var rowsA = 0, rowsB = 0, dupA = 0, dupB = 0, added = 0, removed = 0, modified = 0, cellsChanged = 0
    var addedSample: [[String: String]] = []
    var removedSample: [[String: String]] = []
    var modifiedRows: [TableDiff.ModifiedRow] = []
}

// How rows are matched (keyed or not, in memory or spilled: one rule, `RowMatcher`):
//
// Rows are compared by the bytes of their cells in the columns both versions have, never by a
// hash alone: a hash only finds the candidates, and bytes decide. (32-bit cell hashes hid real
// changes: 6.3312 and 13.4748 collide in FNV-1a.) Rows sharing a key form a key group, and
// within a group rows are matched as a multiset: identical rows pair off, and what is left is
// removed (old) or added (new), except that a key left with exactly one old and one new row
// is one modified row, compared cell by cell. So `old + added - removed = new` always, and
// a unique key changed in place is "modified" as before. Unkeyed, the whole table is one
// multiset (no modified rows).

/// A row's cells for matching: the key cells, then every shared cell, each as a LEB128 length
/// and its bytes (so concatenations are unambiguous). Returns the key part's length.
@inline(__always) func encodeRow(_ r: RowSource, key: [Int], shared: [Int], into out: inout [UInt8]) -> Int {
    out.removeAll(keepingCapacity: true)
    for c in key { appendCell(r.field(c), &out) }
    let k = out.count
    for c in shared { appendCell(r.field(c), &out) }
    return k
}

@inline(__always) private func appendCell(_ v: ArraySlice<UInt8>, _ out: inout [UInt8]) {
    var n = v.count
    while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
    out.append(UInt8(n))
    out.append(contentsOf: v)
}

/// The cells of an encoded part, in order (bytes we wrote ourselves; a malformed length
/// ends the list rather than trapping).
func decodeCells(_ p: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
    var out: [UnsafeRawBufferPointer] = []
    var i = 0
    while i < p.count {
        var n = 0, shift = 0
        while i < p.count {
            let b = p[i]; i += 1
            n |= Int(b & 0x7f) << shift
            shift += 7
            if b & 0x80 == 0 { break }
        }
        guard n <= p.count - i else { break }
        out.append(UnsafeRawBufferPointer(rebasing: p[i..<(i + n)]))
        i += n
    }
    return out
}

@inline(__always) private func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// Swift's Hasher (SipHash, seeded per process): only for finding candidates in tables, so
/// crafted keys cannot make probing quadratic; equality is always decided on the bytes.
@inline(__always) private func bucketHash(_ p: UnsafeRawBufferPointer, salt: Int = 0) -> UInt64 {
    var h = Hasher()
    h.combine(salt)
    h.combine(bytes: p)
    return UInt64(bitPattern: Int64(h.finalize()))
}

/// Open addressing over ids 0, 1, 2, …; the caller's `same(id)` compares the bytes.
private struct BytesIndex {
    private var slots = [Int32](repeating: 0, count: 64)   // id + 1; 0 is empty
    private var hashes: [UInt64] = []

    func find(_ h: UInt64, _ same: (Int) -> Bool) -> Int? {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] != 0 {
            let id = Int(slots[i] - 1)
            if hashes[id] == h && same(id) { return id }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Adds the next id (returned) with hash `h`.
    mutating func insert(_ h: UInt64) -> Int {
        if (hashes.count + 1) * 2 > slots.count {
            slots = [Int32](repeating: 0, count: slots.count * 2)
            for (id, x) in hashes.enumerated() { place(id, x) }
        }
        hashes.append(h)
        place(hashes.count - 1, h)
        return hashes.count - 1
    }

    private mutating func place(_ id: Int, _ h: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = Int32(id + 1)
    }
}

/// The `n` smallest values offered, in order.
struct Smallest<T> {
    let n: Int
    let less: (T, T) -> Bool
    private(set) var items: [T] = []
    init(_ n: Int, by less: @escaping (T, T) -> Bool) { self.n = n; self.less = less }
    mutating func offer(_ x: T) {
        guard n > 0 else { return }
        if items.count == n { guard let last = items.last, less(x, last) else { return }; items.removeLast() }
        // Binary search: --rows may ask for thousands.
        var lo = 0, hi = items.count
        while lo < hi { let m = (lo + hi) / 2; if less(x, items[m]) { hi = m } else { lo = m + 1 } }
        items.insert(x, at: lo)
    }
    mutating func merge(_ o: Smallest<T>) { for x in o.items { offer(x) } }
}

/// A modified row found by the matcher: values as text, cells by shared position.
struct MatchedModification {
    var aRow: UInt64, bRow: UInt64, line: UInt64
    var key: [String]
    var cells: [(index: Int, old: String, new: String)]
}

/// Bytes appended and never moved while read: pointers into it stay valid until the next
/// append (which may move the buffer), and it frees itself.
final class ByteArena {
    private(set) var base: UnsafeMutableRawPointer? = nil
    private(set) var count = 0
    private var capacity = 0

    deinit { free(base) }

    func append(_ p: UnsafeRawBufferPointer) {
        if count + p.count > capacity {
            let c = max(capacity * 2, count + p.count, 4096)
            guard let m = realloc(base, c) else { fatalError("out of memory for \(c) bytes of rows") }
            base = m
            capacity = c
        }
        if p.count > 0, let src = p.baseAddress { (base! + count).copyMemory(from: src, byteCount: p.count) }
        count += p.count
    }

    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    subscript(_ r: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + r.lowerBound }, count: r.count)
    }
}

/// Matches the rows of one partition (or of whole tables, in memory): old rows are kept as
/// bytes (their shared cells), new rows are streamed against them. See the rule above.
final class RowMatcher {
    let keyed: Bool
    private let arena = ByteArena()
    private var start: [Int] = [0]          // old record i is arena[start[i]..<start[i+1]]
    private var keyLen: [UInt32] = []
    private var oldRow: [UInt64] = []
    private var classOf: [Int32] = []
    // Classes of identical old rows (same shared cells): first row, size, rows paired off, group.
    private var classes = BytesIndex()
    private var classHead: [Int32] = [], classCount: [Int32] = [], classMatched: [Int32] = [], classGroup: [Int32] = []
    // Key groups: first row, old rows left, new rows seen, new rows left, the first new row left.
    private var groups = BytesIndex()
    private var groupHead: [Int32] = [], groupOldLeft: [Int32] = [], groupNewSeen: [Int32] = [], groupNewLeft: [Int32] = []
    private var groupPending: [Int32] = []
    // The first new row left in a group: a modified row if the group ends with one of each.
    private let pendingArena = ByteArena()
    private var pendingStart: [Int] = [0]
    private var pendingRow: [UInt64] = [], pendingLine: [UInt64] = []
    // Keys only the new version has, for its duplicate-key count.
    private var newKeys = BytesIndex()
    private let newKeyArena = ByteArena()
    private var newKeyStart: [Int] = [0]

    var dupA = 0, dupB = 0, added = 0, removed = 0, modified = 0, cellsChanged = 0
    var addedRows: Smallest<UInt64>, removedRows: Smallest<UInt64>
    var modifications: Smallest<MatchedModification>

    init(keyed: Bool, samples: Int) {
        self.keyed = keyed
        addedRows = Smallest(samples, by: <)
        removedRows = Smallest(samples, by: <)
        modifications = Smallest(samples) { $0.line < $1.line }
    }

    private func old(_ i: Int) -> UnsafeRawBufferPointer { arena[start[i]..<start[i + 1]] }
    private func oldKey(_ i: Int) -> UnsafeRawBufferPointer { arena[start[i]..<(start[i] + Int(keyLen[i]))] }

    func addOld(_ payload: [UInt8], keyLength k: Int, row: UInt64) throws {
        guard oldRow.count < Int(Int32.max) - 1 else {
            throw DiffError.malformed(file: "the old table", line: 0, why: "more than 2,147,483,646 rows in one partition, the most a diff handles")
        }
        let i = oldRow.count
        arena.append(payload)
        start.append(arena.count)
        keyLen.append(UInt32(k))
        oldRow.append(row)
        payload.withUnsafeBytes { p in
            let keyBytes = UnsafeRawBufferPointer(rebasing: p[0..<k])
            let hk = bucketHash(keyBytes)
            let g: Int
            if let found = groups.find(hk, { id in sameBytes(keyBytes, oldKey(Int(groupHead[id]))) }) {
                g = found
                if keyed { dupA += 1 }
            } else {
                g = groups.insert(hk)
                groupHead.append(Int32(i)); groupOldLeft.append(0); groupNewSeen.append(0); groupNewLeft.append(0); groupPending.append(-1)
            }
            groupOldLeft[g] += 1
            let hr = bucketHash(p, salt: 1)
            let c: Int
            if let found = classes.find(hr, { id in sameBytes(p, old(Int(classHead[id]))) }) {
                c = found
            } else {
                c = classes.insert(hr)
                classHead.append(Int32(i)); classCount.append(0); classMatched.append(0); classGroup.append(Int32(g))
            }
            classCount[c] += 1
            classOf.append(Int32(c))
        }
    }

    func addNew(_ payload: [UInt8], keyLength k: Int, row: UInt64, line: UInt64) {
        payload.withUnsafeBytes { p in
            let keyBytes = UnsafeRawBufferPointer(rebasing: p[0..<k])
            let hr = bucketHash(p, salt: 1)
            if let c = classes.find(hr, { id in sameBytes(p, old(Int(classHead[id]))) }), classMatched[c] < classCount[c] {
                // An identical old row pairs off with this one.
                classMatched[c] += 1
                let g = Int(classGroup[c])
                groupOldLeft[g] -= 1
                if keyed { if groupNewSeen[g] > 0 { dupB += 1 }; groupNewSeen[g] += 1 }
                return
            }
            guard keyed else { added += 1; addedRows.offer(row); return }
            let hk = bucketHash(keyBytes)
            guard let g = groups.find(hk, { id in sameBytes(keyBytes, oldKey(Int(groupHead[id]))) }) else {
                // A key the old version lacks: added.
                if newKeys.find(hk, { id in sameBytes(keyBytes, newKeyArena[newKeyStart[id]..<newKeyStart[id + 1]]) }) != nil {
                    dupB += 1
                } else {
                    _ = newKeys.insert(hk)
                    newKeyArena.append(keyBytes)
                    newKeyStart.append(newKeyArena.count)
                }
                added += 1
                addedRows.offer(row)
                return
            }
            if groupNewSeen[g] > 0 { dupB += 1 }
            groupNewSeen[g] += 1
            groupNewLeft[g] += 1
            if groupNewLeft[g] == 1 {
                groupPending[g] = Int32(pendingRow.count)
                pendingArena.append(p)
                pendingStart.append(pendingArena.count)
                pendingRow.append(row)
                pendingLine.append(line)
            } else {
                // Two new rows left for one key: neither is a modification.
                added += 1
                addedRows.offer(row)
                if groupNewLeft[g] == 2 { added += 1; addedRows.offer(pendingRow[Int(groupPending[g])]) }
            }
        }
    }

    /// Resolves what is left: removed old rows, modified pairs, added pending rows.
    func finish() {
        var seen = [Int32](repeating: 0, count: classHead.count)
        for i in 0..<oldRow.count {
            let c = Int(classOf[i])
            seen[c] += 1
            // The first `classMatched` rows of a class paired off; the rest are left.
            guard seen[c] > classMatched[c] else { continue }
            let g = Int(classGroup[c])
            if keyed && groupOldLeft[g] == 1 && groupNewLeft[g] == 1 {
                let t = Int(groupPending[g])
                let k = Int(keyLen[i])
                let o = old(i)
                do {
                    let n = pendingArena[pendingStart[t]..<pendingStart[t + 1]]
                    let oc = decodeCells(UnsafeRawBufferPointer(rebasing: o[k...]))
                    let nc = decodeCells(UnsafeRawBufferPointer(rebasing: n[k...]))
                    var changed: [(index: Int, old: String, new: String)] = []
                    for j in 0..<min(oc.count, nc.count) where !sameBytes(oc[j], nc[j]) {
                        changed.append((j, String(decoding: oc[j], as: UTF8.self), String(decoding: nc[j], as: UTF8.self)))
                    }
                    modified += 1
                    cellsChanged += changed.count
                    if modifications.n > 0 {
                        let key = decodeCells(UnsafeRawBufferPointer(rebasing: o[0..<k])).map { String(decoding: $0, as: UTF8.self) }
                        modifications.offer(MatchedModification(aRow: oldRow[i], bRow: pendingRow[t], line: pendingLine[t], key: key, cells: changed))
                    }
                }
                groupNewLeft[g] = 0      // resolved
            } else {
                removed += 1
                removedRows.offer(oldRow[i])
            }
        }
        for g in 0..<groupHead.count where groupNewLeft[g] == 1 {
            added += 1
            addedRows.offer(pendingRow[Int(groupPending[g])])
        }
    }
}

/// Buffered appends to a spill file.
private final class SpillFile {
    let file: FileHandleFD
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        file = try FileHandleFD.create(path, mode: 0o600)
        buffer.reserveCapacity(64 << 10)
    }

    /// One record: row number, line, key length, payload length, payload.
    func append(row: UInt64, line: UInt64, keyLength: Int, payload: [UInt8]) throws {
        buffer.appendLE(row)
        buffer.appendLE(line)
        buffer.appendLE(UInt32(keyLength))
        buffer.appendLE(UInt32(payload.count))
        buffer.append(contentsOf: payload)
        if buffer.count >= 64 << 10 { try flush() }
    }

    func flush() throws {
        try file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// The records written, in order.
    func forEach(_ body: (_ row: UInt64, _ line: UInt64, _ keyLength: Int, _ payload: [UInt8]) throws -> Void) throws {
        let bytes = try FS.readAll(file.path)
        var r = ByteReader(bytes)
        while let row = r.read(UInt64.self), let line = r.read(UInt64.self), let k = r.read(UInt32.self),
              let n = r.read(UInt32.self), let p = r.readBytes(Int(n)), Int(k) <= p.count {
            try body(row, line, Int(k), Array(p))
        }
    }
}

/// Matches the rows of two tables (see `RowMatcher`): in memory when `options.partitions` is
/// 1, else with bounded memory: both tables are streamed once into P pairs of partition files
/// (by key, or unkeyed by the whole row; each record the row's shared cells as bytes), and
/// each pair is matched in memory in turn. Counts and samples are the same either way. A last
/// pass over each table fetches the whole rows of the added and removed samples.
func matchRows(a: RowSource, b: RowSource, reopen: (Bool) throws -> RowSource,
               keyA: [Int], keyB: [Int], sharedA: [Int], sharedB: [Int], shared: [String],
               options: TableDiffOptions, profilesA: inout [ColumnProfile], profilesB: inout [ColumnProfile]) throws -> PartitionedResult {
    let keyed = !keyA.isEmpty
    let n = options.rowSamples
    var res = PartitionedResult()
    let total = RowMatcher(keyed: keyed, samples: n)
    var payload: [UInt8] = []
    if options.partitions <= 1 {
        while try a.next() {
            for i in 0..<a.header.count { profilesA[i].add(a.field(i)) }
            let k = encodeRow(a, key: keyA, shared: sharedA, into: &payload)
            try total.addOld(payload, keyLength: k, row: UInt64(res.rowsA))
            res.rowsA += 1
        }
        while try b.next() {
            for i in 0..<b.header.count { profilesB[i].add(b.field(i)) }
            let k = encodeRow(b, key: keyB, shared: sharedB, into: &payload)
            total.addNew(payload, keyLength: k, row: UInt64(res.rowsB), line: UInt64(b.line))
            res.rowsB += 1
        }
        total.finish()
    } else {
        let parts = options.partitions
        let dir = FS.join(options.spillDirectory, FS.scratchName(Store.TempKind.diff.rawValue))
        try FS.makeDirectories(dir)
        defer { try? FS.removeTree(dir) }
        func spill(_ r: RowSource, _ side: String, _ keys: [Int], _ cols: [Int], _ profiles: inout [ColumnProfile]) throws -> ([SpillFile], Int) {
            let files = try (0..<parts).map { try SpillFile(FS.join(dir, "\(side)\($0)")) }
            var rows = 0
            while try r.next() {
                for i in 0..<r.header.count { profiles[i].add(r.field(i)) }
                let k = encodeRow(r, key: keys, shared: cols, into: &payload)
                // Rows that can match land in the same partition: by key, or unkeyed by the row.
                let h = payload.withUnsafeBytes { p in bucketHash(keyed ? UnsafeRawBufferPointer(rebasing: p[0..<k]) : p, salt: 2) }
                try files[Int(h % UInt64(parts))].append(row: UInt64(rows), line: UInt64(r.line), keyLength: k, payload: payload)
                rows += 1
            }
            for f in files { try f.flush() }
            return (files, rows)
        }
        let (filesA, rowsA) = try spill(a, "a", keyA, sharedA, &profilesA)
        let (filesB, rowsB) = try spill(b, "b", keyB, sharedB, &profilesB)
        res.rowsA = rowsA
        res.rowsB = rowsB
        for p in 0..<parts {
            let m = RowMatcher(keyed: keyed, samples: n)
            try filesA[p].forEach { row, _, k, bytes in try m.addOld(bytes, keyLength: k, row: row) }
            try filesB[p].forEach { row, line, k, bytes in m.addNew(bytes, keyLength: k, row: row, line: line) }
            m.finish()
            total.dupA += m.dupA; total.dupB += m.dupB
            total.added += m.added; total.removed += m.removed
            total.modified += m.modified; total.cellsChanged += m.cellsChanged
            total.addedRows.merge(m.addedRows); total.removedRows.merge(m.removedRows)
            total.modifications.merge(m.modifications)
        }
    }
    (res.dupA, res.dupB, res.added, res.removed, res.modified, res.cellsChanged) =
        (total.dupA, total.dupB, total.added, total.removed, total.modified, total.cellsChanged)
    for m in total.modifications.items {
        res.modifiedRows.append(TableDiff.ModifiedRow(
            key: Dictionary(zip(options.key, m.key), uniquingKeysWith: { x, _ in x }), line: Int(m.line),
            cells: m.cells.map { TableDiff.CellChange(column: shared[$0.index], index: sharedB[$0.index], old: $0.old, new: $0.new) }))
    }
    // The whole rows of the samples (columns only one version has included), in file order.
    func fetch(_ rows: [UInt64], newSide: Bool) throws -> [[String: String]] {
        guard !rows.isEmpty else { return [] }
        let r = try reopen(newSide)
        var out: [[String: String]] = []
        var row: UInt64 = 0, next = 0
        while next < rows.count, try r.next() {
            if row == rows[next] { out.append(record(r)); next += 1 }
            row += 1
        }
        return out
    }
    res.addedSample = try fetch(total.addedRows.items, newSide: true)
    res.removedSample = try fetch(total.removedRows.items, newSide: false)
    return res
}
