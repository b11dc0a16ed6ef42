// GMPSVision: experts, sampling, Guided Meta-Policy Search, baselines and evaluation.
// (Arrives with issues 5 and 6.)
