// UserMessages — the fix mlv adds to errors of the layers below it. MLVStore and MLVS3 know
// nothing of mlv's commands, so their errors say what is wrong; the command that helps is
// added here, once, for every way an error reaches the user (the exit message, fsck's list).
import MLVS3
import MLVStore

/// What the user reads for `error`: its description, and the mlv command that helps when
/// the error comes from a layer that cannot name one.
public func userMessage(for error: any Error) -> String {
    if let e = error as? StoreError, case .missingObject = e {
        return "\(e); `mlv fetch --rev REV -- PATH` brings what a commit pins from a remote (`mlv fsck` lists what this store lacks)"
    }
    if let e = error as? ObjectError {
        switch e {
        case .corrupt: return "\(e); run `mlv fsck` to check the store"
        case .badSnapshot(let target, _): return "\(e): check `git log -- \(target).mlv` and run `mlv fsck`"
        case .badName: return "\(e)"
        }
    }
    if let e = error as? S3Error { return RemoteStore.why(e) }
    return "\(error)"
}
