// Walk — every object below a set of roots (trees, manifests, chunks): the one walk behind
// push (what to send), gc (what is live), fsck (what a pointer needs) and the commands that
// fetch what they read (what is missing).
import MLVSystem

extension Store {
    /// Every object id below `roots`, the roots included. Objects in `known` count as walked
    /// already, with everything below them. An object the store lacks is passed to `missing`
    /// (which may throw to stop the walk) and stays in the result with nothing below it.
    /// A file's chunks are listed without being looked up unless `lookUpChunks`; with
    /// `treesOnly`, a tree's files and links are left out (a folder's trees alone).
    public func walk(from roots: some Sequence<ObjectID>, known: Set<ObjectID> = [], treesOnly: Bool = false,
                     lookUpChunks: Bool = false, missing: (ObjectID) throws -> Void = { _ in }) throws -> Set<ObjectID> {
        var seen = known
        var stack = Array(roots)
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            guard let loc = try location(of: id) else {
                try missing(id)
                continue
            }
            switch loc.type {
            case .tree: stack += try tree(id).entries.filter { !treesOnly || $0.kind == .directory }.map(\.id)
            case .file:
                let chunks = try manifest(id).chunks.map(\.id)
                if lookUpChunks { stack += chunks } else { seen.formUnion(chunks) }
            case .chunk: break
            }
        }
        return seen
    }
}
