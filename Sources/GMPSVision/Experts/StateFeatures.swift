import ConvNet
import VisionEnvs

/// The expert's view of a manipulation state: the privileged state turned into network
/// inputs. Positions are centred on the workspace and scaled to about ±2; the vectors that
/// matter (hand → object, object → goal) are added as scaled differences, because a small MLP
/// learns centimetre-scale relations much faster from them than from raw coordinates.
/// Versioned: an expert file names the map it was trained with.
public struct StateFeatures: Sendable, Equatable {
    public let environment: EnvironmentName
    public static let version = "features-v1"

    public init(_ environment: EnvironmentName) { self.environment = environment }

    static let centre = SIMD3<Float>(0, 0.65, 0.1)
    static let positionScale: Float = 1 / 0.15
    static let differenceScale: Float = 1 / 0.05

    /// Network inputs per state.
    public var count: Int {
        switch environment {
        case .reach: return 9
        case .push: return 15
        case .door: return 12
        }
    }

    /// The features of one privileged state (`environment.privilegedStateDimension` numbers).
    public func callAsFunction(_ state: [Float]) -> [Float] {
        func position(_ v: SIMD3<Float>) -> [Float] { let x = (v - Self.centre) * Self.positionScale; return [x.x, x.y, x.z] }
        func difference(_ v: SIMD3<Float>) -> [Float] { let x = v * Self.differenceScale; return [x.x, x.y, x.z] }
        switch environment {
        case .reach:
            let s = ReachState(state)
            return position(s.hand) + position(s.goal) + difference(s.goal - s.hand)
        case .push:
            let s = PushState(state)
            return position(s.hand) + position(s.block) + position(s.goal)
                + difference(s.block - s.hand) + difference(s.goal - s.block)
        case .door:
            let s = DoorState(state)
            let (angle, target) = (s.angle, s.targetAngle)
            return position(s.hand) + position(s.handle) + difference(s.handle - s.hand)
                + [(angle - 0.5) / 0.3, (target - 0.5) / 0.3, (target - angle) / 0.1]
        }
    }
}
