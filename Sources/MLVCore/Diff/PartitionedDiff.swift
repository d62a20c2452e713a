import Glibc
import MLVStore

struct PartitionedResult {
    var rowsA = 0, rowsB = 0, dupA = 0, dupB = 0, added = 0, removed = 0, modified = 0, cellsChanged = 0
    var addedSample: [[String: String]] = []
    var removedSample: [[String: String]] = []
    var modifiedRows: [TableDiff.ModifiedRow] = []
}

/// Buffered appends to a spill file.
private final class SpillFile {
    let file: FileHandleFD
    private var buffer: [UInt8] = []
    private(set) var count = 0

    init(_ path: String) throws {
        file = try FileHandleFD.create(path, mode: 0o600)
        buffer.reserveCapacity(64 << 10)
    }

    func append<T: FixedWidthInteger>(_ v: T) { buffer.appendLE(v) }

    func endRecord() throws {
        count += 1
        if buffer.count >= 64 << 10 { try flush() }
    }

    func flush() throws {
        try file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The keyed comparison with bounded memory: both tables are streamed once into P pairs of
/// partition files (by key hash: key, row number, one 32-bit hash per shared column), each
/// pair is then compared in memory, and a last pass over each table fetches the values of the
/// sampled rows. Counts are exactly those of the in-memory comparison.
func partitionedKeyedDiff(a: RowSource, b: RowSource, reopen: (Bool) throws -> RowSource,
                          keyA: [Int], keyB: [Int], sharedA: [Int], sharedB: [Int], shared: [String],
                          options: TableDiffOptions, profilesA: inout [ColumnProfile], profilesB: inout [ColumnProfile]) throws -> PartitionedResult {
    let parts = options.partitions, width = shared.count
    let dir = FS.join(options.spillDirectory, "mlv-diff-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FS.makeDirectories(dir)
    defer { try? removeTree(dir) }
    var res = PartitionedResult()

    // Spill both tables.
    func spill(_ r: RowSource, _ side: String, _ keys: [Int], _ cols: [Int], _ profiles: inout [ColumnProfile], withLine: Bool) throws -> ([SpillFile], Int) {
        let files = try (0..<parts).map { try SpillFile(FS.join(dir, "\(side)\($0)")) }
        var rows = 0
        let n = r.header.count
        while try r.next() {
            guard rows < Int(UInt32.max) else {
                throw DiffError.malformed(file: side == "a" ? "the old table" : "the new table", line: 0,
                                          why: "more than 4,294,967,295 rows, the most a keyed diff handles")
            }
            for i in 0..<n { profiles[i].add(r.field(i)) }
            let k = keyHash(r, keys)
            let f = files[Int(k % UInt64(parts))]
            f.append(k)
            f.append(UInt32(rows))
            if withLine { f.append(UInt32(truncatingIfNeeded: r.line)) }
            for c in cols { f.append(UInt32(truncatingIfNeeded: fnv1a(r.field(c)))) }
            try f.endRecord()
            rows += 1
        }
        for f in files { try f.flush() }
        return (files, rows)
    }
    let (filesA, rowsA) = try spill(a, "a", keyA, sharedA, &profilesA, withLine: false)
    let (filesB, rowsB) = try spill(b, "b", keyB, sharedB, &profilesB, withLine: true)
    res.rowsA = rowsA
    res.rowsB = rowsB

    // Compare partition by partition.
    let n = options.rowSamples
    var addedRows: [UInt32] = [], removedRows: [UInt32] = []
    var mods: [(aRow: UInt32, bRow: UInt32, line: UInt32, changed: [Int])] = []
    for p in 0..<parts {
        let aBytes = try FS.readAll(filesA[p].file.path)
        let aSize = 12 + 4 * width
        let count = aBytes.count / aSize
        var index: [UInt64: Int32] = [:]
        index.reserveCapacity(count)
        aBytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let k = raw.loadUnaligned(fromByteOffset: i * aSize, as: UInt64.self)
                if index[k] != nil { res.dupA += 1 } else { index[k] = Int32(i) }
            }
        }
        var matched = [Bool](repeating: false, count: count)
        var seen = Set<UInt64>()
        // Each partition keeps its first n of each sample kind (its records are in file
        // order), so the first n overall are among them.
        var (addedHere, removedHere, modsHere) = (0, 0, 0)
        let bBytes = try FS.readAll(filesB[p].file.path)
        let bSize = 16 + 4 * width
        aBytes.withUnsafeBytes { ra in
            bBytes.withUnsafeBytes { rb in
                for j in 0..<(bBytes.count / bSize) {
                    let base = j * bSize
                    let k = rb.loadUnaligned(fromByteOffset: base, as: UInt64.self)
                    let bRow = rb.loadUnaligned(fromByteOffset: base + 8, as: UInt32.self)
                    if !seen.insert(k).inserted { res.dupB += 1; continue }
                    guard let i = index[k] else {
                        res.added += 1
                        if addedHere < n { addedRows.append(bRow); addedHere += 1 }
                        continue
                    }
                    matched[Int(i)] = true
                    var changed: [Int] = []
                    for c in 0..<width where rb.loadUnaligned(fromByteOffset: base + 16 + 4 * c, as: UInt32.self)
                        != ra.loadUnaligned(fromByteOffset: Int(i) * aSize + 12 + 4 * c, as: UInt32.self) {
                        changed.append(c)
                    }
                    if !changed.isEmpty {
                        res.modified += 1
                        res.cellsChanged += changed.count
                        if modsHere < n {
                            modsHere += 1
                            let line = rb.loadUnaligned(fromByteOffset: base + 12, as: UInt32.self)
                            let aRow = ra.loadUnaligned(fromByteOffset: Int(i) * aSize + 8, as: UInt32.self)
                            mods.append((aRow, bRow, line, changed))
                        }
                    }
                }
                for (i, m) in matched.enumerated() where !m {
                    res.removed += 1
                    if removedHere < n {
                        removedHere += 1
                        removedRows.append(ra.loadUnaligned(fromByteOffset: i * aSize + 8, as: UInt32.self))
                    }
                }
            }
        }
    }

    // The samples: the first rows in file order, as the in-memory comparison reports them.
    addedRows = Array(addedRows.sorted().prefix(n))
    removedRows = Array(removedRows.sorted().prefix(n))
    mods = Array(mods.sorted { $0.line < $1.line }.prefix(n))
    guard n > 0, !(addedRows.isEmpty && removedRows.isEmpty && mods.isEmpty) else { return res }
    var newValues: [UInt32: [String]] = [:]
    let wantB = Set(addedRows).union(mods.map(\.bRow))
    if !wantB.isEmpty {
        let r = try reopen(true)
        var row: UInt32 = 0
        var found = 0
        while found < wantB.count, try r.next() {
            if wantB.contains(row) {
                found += 1
                if addedRows.contains(row) { res.addedSample.append(record(r)) }
                newValues[row] = sharedB.map { r.string($0) }
            }
            row += 1
        }
    }
    let wantA = Set(removedRows).union(mods.map(\.aRow))
    var oldValues: [UInt32: ([String], [String])] = [:]   // shared values, key values
    if !wantA.isEmpty {
        let r = try reopen(false)
        var row: UInt32 = 0
        var found = 0
        while found < wantA.count, try r.next() {
            if wantA.contains(row) {
                found += 1
                if removedRows.contains(row) { res.removedSample.append(record(r)) }
                oldValues[row] = (sharedA.map { r.string($0) }, keyA.map { r.string($0) })
            }
            row += 1
        }
    }
    for m in mods {
        guard let (old, keys) = oldValues[m.aRow], let new = newValues[m.bRow] else { continue }
        let key = Dictionary(zip(options.key, keys), uniquingKeysWith: { a, _ in a })
        res.modifiedRows.append(TableDiff.ModifiedRow(key: key, line: Int(m.line),
                                                      cells: m.changed.map { TableDiff.CellChange(column: shared[$0], index: sharedB[$0], old: old[$0], new: new[$0]) }))
    }
    return res
}
