// A Parquet file's footer (https://github.com/apache/parquet-format, "File format"):
//
//   "PAR1" | column chunks ... | FileMetaData (Thrift compact) | u32 LE length of it | "PAR1"
//
// Only what a table's shape needs is decoded (version, schema tree, row counts, writer); the
// rest is skipped field by field. Knows nothing of mlv: it reads bytes handed to it.

import MLVSystem

public enum ParquetError: Error, Equatable, CustomStringConvertible {
    case notParquet(String)
    case encrypted
    case badFooter(String)

    public var description: String {
        switch self {
        case .notParquet(let why): return "not a Parquet file (\(why))"
        case .encrypted: return "an encrypted Parquet footer (\"PARE\"), which mlv does not read"
        case .badFooter(let why): return "a damaged Parquet footer: \(why)"
        }
    }
}

extension ParquetError: CategorizedError {
    public var category: ErrorCategory { .input }   // a user's file
}

public enum ParquetFooter {
    public static let magic: [UInt8] = Array("PAR1".utf8)
    /// The largest footer read: pyarrow writes well under 1 MiB for thousands of columns.
    public static let maxFooterBytes: UInt64 = 64 << 20

    /// Where the FileMetaData lies, from the file's size and its last 8 bytes.
    public static func metadataRange(fileSize: UInt64, tail: [UInt8]) throws -> Range<UInt64> {
        guard fileSize >= 12, tail.count == 8 else { throw ParquetError.notParquet("\(fileSize) bytes, fewer than a Parquet file has") }
        let end = Array(tail[4..<8])
        if end == Array("PARE".utf8) { throw ParquetError.encrypted }
        guard end == magic else { throw ParquetError.notParquet("it does not end in \"PAR1\"") }
        let n = UInt64(tail[0]) | UInt64(tail[1]) << 8 | UInt64(tail[2]) << 16 | UInt64(tail[3]) << 24
        guard n > 0, n <= fileSize - 12 else { throw ParquetError.badFooter("a footer of \(n) bytes in a file of \(fileSize)") }
        guard n <= maxFooterBytes else { throw ParquetError.badFooter("a footer of \(n) bytes (mlv reads at most \(maxFooterBytes))") }
        return (fileSize - 8 - n)..<(fileSize - 8)
    }
}

/// What mlv reads of FileMetaData.
public struct ParquetMetadata: Equatable, Sendable {
    public var version: Int32
    /// Rows in the file: FileMetaData's count, checked against the sum of its row groups'.
    public var rows: Int64
    /// Top-level fields (the schema root's children): a nested struct or list is one column.
    public var columns: Int
    /// Leaf columns (what the column chunks hold).
    public var leafColumns: Int
    public var rowGroupRows: [Int64]
    public var createdBy: String?

    public init(decoding bytes: [UInt8]) throws {
        var r = ThriftReader(bytes)
        var version: Int32?, rows: Int64?, createdBy: String?
        var children: [Int32?] = []           // num_children of each schema element, in order
        var groups: [Int64] = []
        do {
            var last: Int16 = 0
            while let (id, t) = try r.fieldHeader(last: &last) {
                switch (id, t) {
                case (1, .i32): version = try r.i32()
                case (2, .list):
                    let (et, n) = try r.listHeader()
                    guard et == .structure else { throw r.fail("the schema is not a list of structs") }
                    for _ in 0..<n { children.append(try ParquetMetadata.schemaElement(&r)) }
                case (3, .i64): rows = try r.zigzag()
                case (4, .list):
                    let (et, n) = try r.listHeader()
                    guard et == .structure else { throw r.fail("the row groups are not a list of structs") }
                    for _ in 0..<n { groups.append(try ParquetMetadata.rowGroupRows(&r)) }
                case (6, .binary):
                    createdBy = String(decoding: try r.binary(), as: UTF8.self)
                default: try r.skip(t)
                }
            }
        } catch let e as ThriftError {
            throw ParquetError.badFooter(e.description)
        }
        guard let version, let rows else { throw ParquetError.badFooter("no \(version == nil ? "version" : "row count")") }
        guard rows >= 0 else { throw ParquetError.badFooter("a row count of \(rows)") }
        // A row count is trusted only when the row groups add up to it.
        var sum: Int64 = 0
        for g in groups {
            guard g >= 0 else { throw ParquetError.badFooter("a row group of \(g) rows") }
            let (s, overflow) = sum.addingReportingOverflow(g)
            guard !overflow else { throw ParquetError.badFooter("row groups whose rows overflow") }
            sum = s
        }
        guard sum == rows else { throw ParquetError.badFooter("\(rows) rows in the footer, \(sum) in its row groups") }
        let (top, leaves) = try ParquetMetadata.schemaShape(children)
        self.version = version
        self.rows = rows
        self.columns = top
        self.leafColumns = leaves
        self.rowGroupRows = groups
        self.createdBy = createdBy
    }

    /// A SchemaElement: its num_children (field 5), nil for a leaf.
    static func schemaElement(_ r: inout ThriftReader) throws -> Int32? {
        var children: Int32?
        var last: Int16 = 0
        while let (id, t) = try r.fieldHeader(last: &last) {
            if id == 5 && t == .i32 { children = try r.i32() } else { try r.skip(t, depth: 1) }
        }
        return children
    }

    /// A RowGroup: its num_rows (field 3).
    static func rowGroupRows(_ r: inout ThriftReader) throws -> Int64 {
        var rows: Int64?
        var last: Int16 = 0
        while let (id, t) = try r.fieldHeader(last: &last) {
            if id == 3 && t == .i64 { rows = try r.zigzag() } else { try r.skip(t, depth: 1) }
        }
        guard let rows else { throw r.fail("a row group without a row count") }
        return rows
    }

    /// The schema is a tree flattened depth first, each element saying how many children
    /// follow it: the root's children are the columns; the tree must use every element.
    static func schemaShape(_ children: [Int32?]) throws -> (top: Int, leaves: Int) {
        guard let rootChildren = children.first, let top = rootChildren, top >= 0 else {
            throw ParquetError.badFooter("no schema root")
        }
        var next = 1, leaves = 0
        // Consumes the subtree at `next`, iteratively (a hostile schema may nest deeply).
        var pending = [Int(top)]          // children still to read, per open level
        while var n = pending.popLast() {
            guard n > 0 else { continue }
            n -= 1
            pending.append(n)
            guard next < children.count else { throw ParquetError.badFooter("the schema names more children than it has elements") }
            let c = children[next]
            next += 1
            if let c, c < 0 { throw ParquetError.badFooter("a schema element with \(c) children") }
            if let c, c > 0 { pending.append(Int(c)) } else { leaves += 1 }
            guard pending.count <= 1_000 else { throw ParquetError.badFooter("a schema nested over 1,000 deep") }
        }
        guard next == children.count else { throw ParquetError.badFooter("\(children.count - next) schema elements outside the tree") }
        return (Int(top), leaves)
    }
}
