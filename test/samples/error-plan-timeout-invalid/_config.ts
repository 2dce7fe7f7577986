// A time limit that is not a duration.
export default { env: { PIPEC_PLAN_TIMEOUT: 'soon' } };
