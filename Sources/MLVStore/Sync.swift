// Sync — what push and fetch copy between a local store and a `Transport`, and in which
// order, written once. The write-order invariant: packs before the index that lists them,
// on both sides (a reader never meets an indexed pack that is missing; a transfer cut short
// leaves unindexed packs, which the next one reuses). Nothing unverified reaches the store.
import MLVSystem
import Foundation
import Glibc
import Synchronization

public enum Sync {
    /// No index mlv writes comes near this: 1 GiB is 19 million objects (over a TiB of data)
    /// pushed at once. A bigger "index" is not one, and is refused before it is read.
    public static let maxIndexSize: UInt64 = 1 << 30

    /// The remote's indexes, each checked against its name. Index files never change, so
    /// one read before is taken from `cacheDir` instead of downloaded again. A damaged index
    /// is skipped when `strict` is false (push re-indexes what it needs), and fails the call
    /// otherwise (fetch must not miss objects silently). A file too large to be an index is
    /// refused before it is downloaded.
    public static func indexes(of t: any Transport, store: Store, cacheDir: String, strict: Bool) throws -> [DecodedIndex] {
        try FS.makeDirectories(cacheDir)
        var out: [DecodedIndex] = []
        for (n, size) in try t.indexFiles() {
            let rel = Layout.indexRel(n)
            let cached = FS.join(cacheDir, n)
            do {
                let bytes: [UInt8]
                if FS.exists(cached) {
                    bytes = try FS.readAll(cached)
                    guard Layout.indexFileName(bytes) == n else {
                        FS.remove(cached)
                        throw TransportError.unreachable(why: "cached index \(n) is damaged; removed, run the command again")
                    }
                } else {
                    guard size <= maxIndexSize else { throw t.tooLarge(rel, size: size, limit: maxIndexSize) }
                    let tmp = store.scratchPath(.remote, suffix: "-\(n)")
                    defer { FS.remove(tmp) }
                    _ = try t.download(rel, to: tmp, limit: maxIndexSize)
                    bytes = try readWhole(FileHandleFD.openRead(tmp), limit: maxIndexSize)
                    guard Layout.indexFileName(bytes) == n else {
                        throw TransportError.damaged(path: t.describe(rel), why: "its content does not match its name")
                    }
                    try FS.rename(tmp, cached)
                }
                do { out.append(try decodeIndex(bytes, path: t.describe(rel))) } catch let e as StoreError {
                    throw t.named(e, rel)
                }
            } catch {
                if strict { throw error }
            }
        }
        return out
    }

    public struct Pushed: Sendable {
        /// Packs sent, and the bytes sent (packs and index).
        public var packs = 0
        public var bytes: UInt64 = 0
        /// Needed packs the remote had already, and their size.
        public var alreadyThere = 0
        public var alreadyThereBytes: UInt64 = 0
    }

    /// Sends the local packs of `needed` the remote lacks, then one index for every needed
    /// pack no remote index lists (`indexed`): packs first, so the remote never indexes a
    /// pack it does not have. `progress(sent, total)` is called from the calling thread.
    public static func push(_ store: Store, needed: Set<ObjectID>, indexed: Set<ObjectID>, to t: any Transport,
                            progress: ((UInt64, UInt64) -> Void)? = nil) throws -> Pushed {
        let files = try t.packFiles()
        let unindexed = needed.subtracting(indexed).sorted()
        let missing = unindexed.filter { files[$0] == nil }
        var total: UInt64 = 0, there: UInt64 = 0
        let sending = Set(missing)
        for p in needed {
            let size = UInt64(FS.lstat(store.packPath(p))?.st_size ?? 0)
            if sending.contains(p) { total += size } else { there += size }
        }
        var out = Pushed(packs: missing.count, bytes: 0, alreadyThere: needed.count - missing.count, alreadyThereBytes: there)
        let sent = Tally()
        try inParallel(missing, workers: t.parallelism, tick: { progress?(min(sent.total, total), total) }) { p in
            sent.add(try t.upload(store.packPath(p), to: Layout.packRel(p)))
        }
        out.bytes = sent.total
        if !unindexed.isEmpty {
            let bytes = encodeIndex(packs: try store.entries(inPacks: Set(unindexed)))
            let tmp = store.scratchPath(.push, suffix: ".idx")
            try FS.atomicWrite(bytes, to: tmp)
            defer { FS.remove(tmp) }
            out.bytes += try t.upload(tmp, to: Layout.indexRel(Layout.indexFileName(bytes)))
        }
        return out
    }

    /// Downloads `packs` (whose sizes the remote listed in `sizes`), verifies every object of
    /// each against its id and the pack against its name, and adds it to the store (pack,
    /// then an index for it) as soon as it is checked: an interrupted fetch keeps what
    /// arrived. A pack holding deltas whose bases the store lacks waits for them: `packOf`
    /// names the remote pack holding an object, those packs are downloaded in further
    /// rounds, and the waiting packs are checked through each other and adopted together
    /// under one index. Returns the bytes downloaded.
    public static func fetch(_ packs: Set<ObjectID>, sizes: [ObjectID: UInt64], from t: any Transport, into store: Store,
                             packOf: (ObjectID) -> ObjectID? = { _ in nil },
                             progress: ((UInt64, UInt64) -> Void)? = nil) throws -> UInt64 {
        // Adopted packs are registered in the loaded index; an index not loaded yet would
        // leave lookups to the files alone.
        try store.loadIndex()
        var roundTotal = packs.reduce(UInt64(0)) { $0 + (sizes[$1] ?? 0) }
        let got = Tally()
        let here = Mutex<[ObjectID: (tmp: String, file: FileHandleFD, entries: [PackedEntry])]>([:])
        defer { for d in here.withLock({ $0.values }) { FS.remove(d.tmp) } }
        @Sendable func named<T>(_ rel: String, _ body: () throws -> T) throws -> T {
            // What is wrong with a download is wrong on the remote: named there, not in the
            // local temp file, and not blamed on the local store.
            do { return try body() } catch let e as StoreError { throw t.named(e, rel) }
        }
        var round = packs
        while !round.isEmpty {
            try inParallel(round.sorted(), workers: t.parallelism, tick: { progress?(min(got.total, roundTotal), roundTotal) }) { p in
                let rel = Layout.packRel(p)
                guard sizes[p] != nil else { throw StoreError.missingPack(path: t.describe(rel)) }
                let tmp = store.scratchPath(.fetch, suffix: "-\(p.hex).pack")
                do {
                    let size = try t.download(rel, to: tmp, limit: PackFormat.maxPackSize)
                    let check = try FileHandleFD.openRead(tmp)
                    let entries = try named(rel) { () throws -> [PackedEntry] in
                        guard try computePackID(check) == p else {
                            throw TransportError.damaged(path: t.describe(rel), why: "its content does not match its name")
                        }
                        return try scanPack(check)
                    }
                    // A pack whose deltas' bases are all here is checked and kept at once (an
                    // interrupted fetch keeps what arrived); the others wait for their bases.
                    let inPack = Set(entries.map(\.id))
                    var waits = false
                    for e in entries where e.encoding == .delta && !waits {
                        let bases = try named(rel) { try readDeltaHeader(check, e).bases }
                        waits = try bases.contains { try !inPack.contains($0) && !store.contains($0) }
                    }
                    if waits {
                        here.withLock { $0[p] = (tmp, check, entries) }
                    } else {
                        _ = try named(rel) { try verifyPack(check, scanned: entries, bases: store) }
                        try store.adopt([(tmp: tmp, id: p, entries: entries)])
                    }
                    got.add(size)
                } catch {
                    FS.remove(tmp)
                    throw error
                }
            }
            // Bases of the deltas waiting that neither the store nor a download holds.
            let all = here.withLock { $0 }
            let held = Set(all.values.flatMap { $0.entries.map(\.id) })
            let local = Set(try store.knownPacks())
            var next = Set<ObjectID>()
            for p in round {
                guard let d = all[p] else { continue }
                for e in d.entries where e.encoding == .delta {
                    for b in try named(Layout.packRel(p), { try readDeltaHeader(d.file, e).bases }) where !held.contains(b) {
                        if try store.contains(b) { continue }
                        guard let q = packOf(b), all[q] == nil, !local.contains(q) else {
                            throw t.named(StoreError.missingBase(delta: e.id, base: b), Layout.packRel(p))
                        }
                        next.insert(q)
                    }
                }
            }
            roundTotal += next.reduce(UInt64(0)) { $0 + (sizes[$1] ?? 0) }
            round = next
        }
        // Every object checked, deltas through the other downloads and the store.
        let all = here.withLock { $0 }
        let overlay = SendableBox(PackOverlay(all.values.map { ($0.file, $0.entries) }, fallback: store))
        let downloads = SendableBox(all)
        try inParallel(all.keys.sorted(), workers: workerCount) { p in
            guard let d = downloads.value[p] else { return }
            do { _ = try verifyPack(d.file, scanned: d.entries, bases: overlay.value) } catch let e as StoreError { throw t.named(e, Layout.packRel(p)) }
        }
        try store.adopt(all.map { (tmp: $0.value.tmp, id: $0.key, entries: $0.value.entries) }.sorted { $0.id < $1.id })
        here.withLock { $0 = [:] }
        return got.total
    }
}

/// Runs `body` for every item on up to `workers` threads (transfers wait on the network or
/// the disk, not the CPU, so more threads than cores pay). The calling thread calls `tick`
/// ten times a second, so progress is drawn from one thread. After a failure no new item
/// starts; the first error is thrown once the running ones end.
public func inParallel<T: Sendable>(_ items: [T], workers: Int, tick: () -> Void = {}, _ body: @escaping @Sendable (T) throws -> Void) throws {
    guard !items.isEmpty else { return }
    let queue = WorkQueue(items)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(workers, items.count)) {
        group.enter()
        let t = Thread {
            while let item = queue.take() {
                do { try body(item) } catch { queue.fail(error) }
            }
            group.leave()
        }
        t.stackSize = 1 << 20
        t.start()
    }
    while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut { tick() }
    tick()
    if let e = queue.state.withLock({ $0.error }) { throw e }
}

/// Items handed out to worker threads one at a time; the first failure stops the handing out.
private final class WorkQueue<T: Sendable>: Sendable {
    let items: [T]
    let state = Mutex<(next: Int, error: (any Error)?)>((0, nil))
    init(_ items: [T]) { self.items = items }

    func take() -> T? {
        state.withLock { s in
            guard s.error == nil, s.next < items.count else { return nil }
            s.next += 1
            return items[s.next - 1]
        }
    }

    func fail(_ e: any Error) { state.withLock { if $0.error == nil { $0.error = e } } }
}

/// A byte count shared by transfer threads and read by the progress line.
public final class Tally: Sendable {
    private let value = Atomic<UInt64>(0)
    public init() {}
    public func add(_ n: UInt64) { value.add(n, ordering: .relaxed) }
    public var total: UInt64 { value.load(ordering: .relaxed) }
}
