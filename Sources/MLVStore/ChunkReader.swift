// ChunkReader — reads objects one after another with one decompressor and one scratch
// buffer sized to the largest entry met, so callers streaming chunks (checkout, diff) need
// not know the pack's entry-header size or hold a zstd context. One reader per thread.
import MLVSystem
import MLVZstd

public final class ChunkReader {
    public let store: Store
    private var scratch: [UInt8] = []
    private let decompressor = ZstdDecompressor()

    public init(store: Store) { self.store = store }

    /// Reads object `id`, found at `loc`, into `out` (exactly `loc.rawLength` bytes),
    /// decompressed and checked against its SHA-256.
    public func read(_ id: ObjectID, at loc: Location, into out: UnsafeMutableRawBufferPointer) throws {
        let need = PackFormat.entryHeaderSize + Int(loc.storedLength)
        if scratch.count < need { scratch = [UInt8](repeating: 0, count: need) }
        try scratch.withUnsafeMutableBytes { s in
            try store.read(id, at: loc, into: out, scratch: s, decompressor: decompressor)
        }
    }
}
