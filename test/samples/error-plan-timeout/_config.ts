// The build function never returns: a one-second limit keeps the sample quick.
export default { env: { PIPEC_PLAN_TIMEOUT: '1s' } };
