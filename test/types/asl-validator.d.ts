/** Types for asl-validator 4 (the package ships none). */
declare module 'asl-validator' {
  interface AslValidatorError {
    'Error code': string;
    Message: string;
    [key: string]: unknown;
  }
  interface AslValidatorResult {
    isValid: boolean;
    errors: AslValidatorError[];
    errorsText: (separator?: string) => string;
  }
  export default function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): AslValidatorResult;
}
