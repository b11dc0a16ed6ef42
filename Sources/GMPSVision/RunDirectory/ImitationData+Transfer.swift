import Foundation
import VisionEnvs

extension ImitationData {
    /// The samples as they travel between ranks (images as base64 in JSON).
    struct Transfer: Codable {
        var images: Data
        var hands: [Float]
        var actions: [Float]

        init(_ data: ImitationData) {
            (images, hands, actions) = (Data(data.images), data.hands, data.actions)
        }

        func imitationData(imageCount: Int, actionCount: Int = ManipulationEnv.actionDimension) -> ImitationData {
            ImitationData(images: [UInt8](images), hands: hands, actions: actions, imageCount: imageCount,
                          actionCount: actionCount)
        }

        /// Every rank's key → data entries, merged (the identity on one process).
        static func shareAcrossRanks<Key: Codable & Hashable>(_ local: [Key: ImitationData], group: any ProcessGroup,
                                                               imageCount: Int) throws -> [Key: ImitationData] {
            guard group.size > 1 else { return local }
            var merged: [Key: ImitationData] = [:]
            for part in try group.allGather(local.mapValues(Transfer.init)) {
                for (key, transfer) in part { merged[key] = transfer.imitationData(imageCount: imageCount) }
            }
            return merged
        }
    }
}
