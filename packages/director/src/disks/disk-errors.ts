import { DirectorError } from '../errors.ts';

// BOSH's disk errors (errors.rb "Disk errors"), HTTP 400 as BOSH's default.

/** `DELETE /disks/<cid>` of a disk an instance still has. */
export class DeletingPersistentDiskError extends DirectorError {
  constructor(message: string) {
    super(520000, 400, message);
  }
}

/** `attach-disk` to an instance that is not in the deployment. */
export class AttachDiskErrorUnknownInstance extends DirectorError {
  constructor(message: string) {
    super(520001, 400, message);
  }
}

/** `attach-disk` to an instance that is neither stopped nor detached. */
export class AttachDiskInvalidInstanceState extends DirectorError {
  constructor(message: string) {
    super(520003, 400, message);
  }
}
