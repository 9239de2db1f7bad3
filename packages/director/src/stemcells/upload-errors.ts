import { DirectorError } from '../errors.ts';

/** BOSH's ResourceError (100001): a remote artifact could not be downloaded. */
export class RemoteDownloadFailed extends DirectorError {
  static readonly code = 100001;
  constructor(message: string, options?: ErrorOptions) {
    super(RemoteDownloadFailed.code, 400, message, options);
  }
}

/** An upload's scratch files are gone (the director restarted between receiving and running). */
export class UploadLost extends DirectorError {
  static readonly code = 100003;
  constructor(message: string, options?: ErrorOptions) {
    super(UploadLost.code, 400, message, options);
  }
}
