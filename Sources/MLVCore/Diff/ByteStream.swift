// Diff — what changed between two versions of tracked data, read without checking anything
// out: pointers come from git, content streams from the store (or the working tree).
import MLVSystem
import Glibc
import MLVStore

/// A file's bytes in order, a block at a time, with bounded memory.
protocol ByteStream: AnyObject {
    /// The next block, or nil at the end. Valid until the next call.
    func next() throws -> UnsafeRawBufferPointer?
}

/// A stored file, decompressed and verified chunk by chunk.
final class StoredFileStream: ByteStream {
    private let store: Store
    private let chunks: [ManifestChunk]
    private var i = 0
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    private let reader: ChunkReader

    init(store: Store, manifest: ObjectID) throws {
        self.store = store
        reader = ChunkReader(store: store)
        chunks = try store.manifest(manifest).chunks
    }

    deinit { buffer.deallocate() }

    func next() throws -> UnsafeRawBufferPointer? {
        guard i < chunks.count else { return nil }
        let c = chunks[i]
        i += 1
        guard let loc = try store.location(of: c.id) else { throw StoreError.missingObject(c.id, type: .chunk) }
        guard loc.rawLength == c.length else {
            throw ObjectError.corrupt(id: c.id, type: .chunk, why: "the manifest says \(counted(c.length, "byte")), the index \(loc.rawLength)")
        }
        if buffer.count < Int(c.length) {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(c.length), alignment: 16)
        }
        let out = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(c.length)])
        try reader.read(c.id, at: loc, into: out)
        return UnsafeRawBufferPointer(out)
    }
}

/// A file in the working tree.
final class WorkingFileStream: ByteStream {
    private let file: FileHandleFD
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)

    init(path: String) throws { file = try FileHandleFD.openRead(path) }

    deinit { buffer.deallocate() }

    func next() throws -> UnsafeRawBufferPointer? {
        let n = try file.read(into: buffer)
        if n == 0 { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[0..<n])
    }
}

/// Reads a whole (small) stream into memory, refusing more than `limit` bytes.
func readAll(_ s: ByteStream, limit: Int, what: String) throws -> [UInt8] {
    var out: [UInt8] = []
    while let b = try s.next() {
        out.append(contentsOf: b)
        if out.count > limit { throw DiffError.tooLarge(what, limit: limit) }
    }
    return out
}

public enum DiffError: Error, CustomStringConvertible, Equatable {
    case malformed(file: String, line: Int, why: String)
    case unknownKey(file: String, column: String, columns: [String])
    /// A global --key that none of the compared tables has (a typo).
    case keyInNoTable(key: [String], tables: [String])
    /// A --key column whose name the header repeats.
    case ambiguousKey(file: String, column: String, count: Int)
    case tooLarge(String, limit: Int)
    case badExpression(String, why: String)
    /// A gate whose value the report does not have: `drift(PATH)` over a table that could
    /// not be compared (the warning says why). Its result is unknown, never "held" or not.
    case gateUnknown(String, why: String)
    /// A table wider or with longer records than `TableLimits`: `mlv diff` falls back to a
    /// byte-level summary and shows this as a warning.
    case tooWide(file: String, why: String)

    /// A table that cannot be compared as one (it does not parse, or is past `TableLimits`):
    /// `mlv diff` shows its byte-level summary with this as a warning, and goes on.
    public var isUncomparableTable: Bool {
        switch self {
        case .malformed, .tooWide: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .malformed(let file, let line, let why):
            return line > 0 ? "\(file):\(line): \(why)" : "\(file): \(why)"
        case .unknownKey(let file, let column, let columns):
            return "\(file): no column \(column.debugDescription) to use as --key; columns are \(DiffError.columnList(columns))"
        case .keyInNoTable(let key, let tables):
            return "none of the \(tables.count) datasets compared (\(DiffError.columnList(tables))) has the --key column \(key.map(\.debugDescription).joined(separator: ", ")); name a column they have, or key one dataset with --key PATH=COLUMN"
        case .ambiguousKey(let file, let column, let count):
            return "\(file): column \(column.debugDescription) appears \(count) times in the header, so it cannot be the --key; rename one of them, or key by other columns"
        case .tooLarge(let what, let limit):
            return "\(what) is larger than \(limit / 1024 / 1024) MiB; metrics and params files must be small"
        case .tooWide(let file, let why):
            return "\(file): \(why)"
        case .gateUnknown(let expr, let why):
            return "--fail-on \(expr.debugDescription) cannot be decided: \(why)"
        case .badExpression(let expr, let why):
            return "--fail-on \(expr.debugDescription): \(why); see `mlv diff --help` for the expression language"
        }
    }

    /// A table's column names for a message: the first twelve, then how many in all.
    static func columnList(_ columns: [String]) -> String {
        columns.isEmpty ? "none" : columns.prefix(12).joined(separator: ", ") + (columns.count > 12 ? ", … (\(columns.count) in all)" : "")
    }
}

extension DiffError: CategorizedError {
    public var category: ErrorCategory { .input }
}
