import Testing
@testable import GMPSVision

struct AdvantagesTests {
    @Test func returnsToGoDiscountFromTheEnd() {
        #expect(discountedReturnsToGo([1, 1, 1], discount: 0.5) == [1.75, 1.5, 1])
        let returns = discountedReturnsToGo([0, 0, 2], discount: 0.9)
        #expect(zip(returns, [1.62, 1.8, 2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func standardizedValuesHaveZeroMeanAndUnitSpread() {
        let values = standardized([1, 2, 3, 10])
        let (mean, std) = meanAndStandardDeviation(values)
        #expect(abs(mean) < 1e-6)
        #expect(abs(std - 1) < 1e-5)
    }

    @Test func linearBaselineRecoversAnExactLinearTarget() {
        // returns = 2·x − 0.5·y² + 0.3·t/100 + 1 lies in the feature span: the fit is exact.
        var trajectories: [(observations: [Float], returns: [Float])] = []
        for k in 0..<5 {
            var observations: [Float] = [], returns: [Float] = []
            for t in 0..<20 {
                let x = Float(k) * 0.1 + Float(t) * 0.01, y = Float(t % 7) * 0.05, z = Float(k % 2)
                observations += [x, y, z]
                returns.append(2 * x - 0.5 * y * y + 0.3 * Float(t) / 100 + 1)
            }
            trajectories.append((observations, returns))
        }
        var baseline = LinearFeatureBaseline(observationSize: 3)
        baseline.fit(trajectories)
        for trajectory in trajectories {
            let predicted = baseline.predict(observations: trajectory.observations, steps: 20)
            let error = zip(predicted, trajectory.returns).map { abs($0 - $1) }.max() ?? 0
            #expect(error < 1e-3)
        }
    }

    @Test func choleskySolvesASmallSystem() throws {
        // [[4, 2], [2, 3]] x = [2, 5]  →  x = [-0.5, 2]
        let x = try #require(solveSymmetricPositiveDefinite([4, 2, 2, 3], [2, 5], size: 2))
        #expect(abs(x[0] + 0.5) < 1e-12 && abs(x[1] - 2) < 1e-12)
        #expect(solveSymmetricPositiveDefinite([1, 2, 2, 1], [1, 1], size: 2) == nil, "indefinite")
    }
}
